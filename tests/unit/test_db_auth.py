"""The database user's credentials as the servers store them (agent_files/db_auth.py): the
SCRAM-SHA-256 verifier PostgreSQL keeps, over the password SASLprep-ed as PostgreSQL does, and
MySQL's mysql_native_password hash. tests/agent/test_database_sql.py logs in with them on real
servers; these check them against the RFCs' and MySQL's published values."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from agent_files import db_auth

pytestmark = pytest.mark.unit

PASSWORD = "canary-pw-O'Brien\\\"#: x"  # quote, backslash, double quote, YAML specials


def test_scram_keys_authenticate_the_rfc_7677_exchange():
    """RFC 7677's SCRAM-SHA-256 example (user "user", password "pencil"): the StoredKey lets
    the server verify the client's proof, the ServerKey yields the server's signature."""
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    auth_message = (f"n=user,r=rOprNGfwEbeRWgbNEkqO,r={nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
                    f"c=biws,r={nonce}").encode()
    stored_key, server_key = db_auth.scram_keys("pencil", salt, 4096)
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client_signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(proof, client_signature))
    assert hashlib.sha256(client_key).digest() == stored_key, "the client's proof verifies"
    assert base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest()) == \
        b"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_salt_is_stable_for_a_password_and_differs_between_passwords():
    """Rendering is deterministic (the SQL's hash is a trigger), yet two passwords (or two
    stacks' users) never share a salt."""
    assert db_auth.postgres_verifier(PASSWORD) == db_auth.postgres_verifier(PASSWORD)
    salts = {db_auth.scram_salt(PASSWORD), db_auth.scram_salt("other"),
             db_auth.scram_salt(PASSWORD, "someone-else")}
    assert len(salts) == 3 and all(len(s) == 16 for s in salts)


@pytest.mark.parametrize("password,prepared", [
    ("user", b"user"),                   # RFC 4013 section 3 examples
    ("I\u00adX", b"IX"),                 # soft hyphen: mapped to nothing
    ("\u00aa", b"a"),                    # NFKC
    ("\u2168", b"IX"),                   # NFKC
    ("a\u00a0b", b"a b"),                # non-ASCII space: mapped to SPACE
    ("\u0627\u0031", "\u0627\u0031".encode()),  # bidi violation: PostgreSQL uses the raw bytes
    ("a\u0007\u00e9", "a\u0007\u00e9".encode()),  # prohibited control character: raw bytes
])
def test_saslprep_prepares_the_password_as_postgresql_does(password, prepared):
    assert db_auth.saslprep(password) == prepared


def test_mysql_native_hash_is_the_servers_password_function():
    """The authentication string MariaDB's PASSWORD() gives, as its documentation shows it:
    PASSWORD('MariaDB42!') = *07A469684341365CDFBADCAEF5FCD6B57F881A9A
    (https://mariadb.com/docs/ent/ref/mdb/functions/OLD_PASSWORD/, EXAMPLES)."""
    assert db_auth.mysql_native_hash("MariaDB42!") == "*07A469684341365CDFBADCAEF5FCD6B57F881A9A", \
        "IDENTIFIED WITH mysql_native_password AS takes the server's own PASSWORD() string"


@pytest.mark.parametrize("password,sent", [
    ("plain-ascii", b"plain-ascii"),
    ("pässwörd", "pässwörd".encode("latin-1")),  # one byte per character, as PyMySQL sends it
])
def test_the_mysql_password_is_the_latin_1_bytes_pymysql_sends(password, sent):
    assert db_auth.mysql_password_bytes(password) == sent


@pytest.mark.parametrize("password,character,position", [
    ("€uro", "'€'", 1),
    ("pässwörd€", "'€'", 9),
])
def test_a_mysql_password_outside_latin_1_is_one_line_naming_the_character_and_its_position(
        password, character, position):
    with pytest.raises(ValueError) as error:
        db_auth.mysql_password_bytes(password)
    assert str(error.value) == (
        f"databasePassword: character {character} (position {position}) is not latin-1, and the "
        "Agent's mysql integration (PyMySQL) sends the password latin-1 encoded: it could never "
        "log in; use latin-1 characters only")
