"""The database user's credentials as the servers store them, computed here so that the SQL
install.sh applies never carries the plaintext password: psql and mysql quote a failing
statement in their error output, and pulumi-command logs that output, so with a verifier or
hash in the SQL there is no plaintext to leak (agent_files/render.py's database_user_sql uses
them). Pure: no pulumi, no disk, no clock; the Agent tier checks them by logging in to real
servers (tests/agent/test_database_sql.py), the unit tier against the RFCs
(tests/unit/test_db_auth.py).

PostgreSQL: a SCRAM-SHA-256 verifier over the SASLprep-ed password (RFC 5802, RFC 7677,
RFC 4013, as PostgreSQL's src/common/saslprep.c). MariaDB/MySQL: mysql_native_password's
authentication string.
"""
import base64
import hashlib
import hmac
import stringprep
import unicodedata

DATADOG_DB_USER = "datadog"  # the database user the Agent's integration logs in as
SCRAM_ITERATIONS = 4096  # PostgreSQL's default scram_iterations
SCRAM_SALT_CONTEXT = b"datadog-stack scram salt:"


def saslprep(password: str) -> bytes:
    """The bytes PostgreSQL (server and libpq alike) feeds SCRAM for `password`.

    As PostgreSQL's pg_saslprep (src/common/saslprep.c, RFC 4013): pure ASCII is used as is;
    otherwise map non-ASCII spaces to U+0020 and drop the "commonly mapped to nothing"
    characters, then NFKC-normalize. If the mapped string is empty or holds a prohibited or
    unassigned character or violates the bidi rules (PostgreSQL checks the mapped string,
    before normalization), PostgreSQL falls back to the raw UTF-8 bytes, so this does too.
    """
    raw = password.encode()
    if password.isascii():
        return raw
    mapped = "".join(" " if stringprep.in_table_c12(c) else c
                     for c in password if not stringprep.in_table_b1(c))
    prohibited = (stringprep.in_table_a1, stringprep.in_table_c12, stringprep.in_table_c21_c22,
                  stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
                  stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9)
    if not mapped or any(table(c) for c in mapped for table in prohibited):
        return raw
    if any(stringprep.in_table_d1(c) for c in mapped):
        if any(stringprep.in_table_d2(c) for c in mapped) or not (
                stringprep.in_table_d1(mapped[0]) and stringprep.in_table_d1(mapped[-1])):
            return raw
    return unicodedata.normalize("NFKC", mapped).encode()


def scram_keys(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> tuple[bytes, bytes]:
    """(StoredKey, ServerKey) of SCRAM-SHA-256 (RFC 5802 section 3, RFC 7677)."""
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest(), server_key


def scram_salt(password: str, username: str = DATADOG_DB_USER) -> bytes:
    """Deterministic (rendering must be: the SQL's hash is a trigger) yet secret-derived, so it
    differs per password and per user: the first 16 bytes of HMAC-SHA256(password, context)."""
    return hmac.new(password.encode(), SCRAM_SALT_CONTEXT + username.encode(),
                    hashlib.sha256).digest()[:16]


def postgres_verifier(password: str, username: str = DATADOG_DB_USER) -> str:
    """The SCRAM-SHA-256 secret PostgreSQL stores in pg_authid.rolpassword. Given to
    `ALTER ROLE ... PASSWORD '<verifier>'`, PostgreSQL stores it as is (PostgreSQL 10+)."""
    salt = scram_salt(password, username)
    stored_key, server_key = scram_keys(password, salt)
    salt64, stored64, server64 = (base64.b64encode(raw).decode() for raw in (salt, stored_key, server_key))
    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{salt64}${stored64}:{server64}"


def mysql_password_bytes(password: str) -> bytes:
    """The bytes the Agent's mysql integration logs in with: it hands PyMySQL the password as
    a `str` (integrations-core mysql/datadog_checks/mysql/mysql.py `_get_connection_args`:
    `connection_args.update({'user': ..., 'passwd': self._config.password})`), and PyMySQL
    encodes a `str` password as latin-1 (PyMySQL 1.1.1 pymysql/connections.py,
    `Connection.__init__`: `self.password = self.password.encode("latin1")`). A password
    with a character outside latin-1 cannot be sent at all (UnicodeEncodeError in the
    Agent): settings refuse it for databaseKind mysql; this guard names it if one gets here."""
    try:
        return password.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"databasePassword: character {password[exc.start]!r} (position {exc.start + 1}) is "
            "not latin-1, and the Agent's mysql integration (PyMySQL) sends the password "
            "latin-1 encoded: it could never log in; use latin-1 characters only") from None


def mysql_native_hash(password: str) -> str:
    """mysql_native_password's authentication string: '*' + upper hex SHA1(SHA1(bytes)), over
    the bytes the integration's driver sends (mysql_password_bytes), as the server computes
    it from the bytes it receives (MariaDB sql/password.c `my_make_scrambled_password`)."""
    raw = mysql_password_bytes(password)
    return "*" + hashlib.sha1(hashlib.sha1(raw).digest()).hexdigest().upper()
