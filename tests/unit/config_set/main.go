// config-set STACK_FILE [KEY...]: prints STACK_FILE as `pulumi config set --secret KEY` leaves
// it, by the pinned Pulumi SDK's own code (go.mod pins the version requirements.txt pins):
//
//   - load: LoadProjectStackBytes (go/common/workspace/loaders.go) unmarshals the file into
//     `any`, marshals it again and unmarshals that into a ProjectStack, whose config.Map holds
//     config.Value: a scalar is read as a string (value.go, unmarshalValue), a list or object
//     is kept as JSON and given back with its numbers (unmarshalObjectJSON);
//   - set: ps.Config.Set(key, value, false) (pkg/cmd/pulumi/config/config.go);
//   - save: encoding.YAML.Marshal of a ProjectStack with its raw bytes is yamlutil.Edit(raw, ps)
//     (go/common/encoding/marshal.go): comments, key order and styles of the unchanged nodes kept,
//     new keys appended (go/common/util/yamlutil/edit.go, handleMappingNode).
//
// The workspace package itself does not build from the module proxy (it needs
// pulumi-cloud-sdk, which the proxy refuses), so its ProjectStack's YAML fields are repeated
// here; the code that decides the file's bytes is the SDK's.
package main

import (
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/encoding"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/yamlutil"
)

// The fields of workspace.ProjectStack (go/common/workspace/project.go) a stack file holds.
type projectStack struct {
	SecretsProvider string     `yaml:"secretsprovider,omitempty"`
	EncryptedKey    string     `yaml:"encryptedkey,omitempty"`
	EncryptionSalt  string     `yaml:"encryptionsalt,omitempty"`
	Config          config.Map `yaml:"config,omitempty"`
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	check(err)
	var document any
	check(encoding.YAML.Unmarshal(raw, &document))
	again, err := encoding.YAML.Marshal(document)
	check(err)
	var stack projectStack
	check(encoding.YAML.Unmarshal(again, &stack))
	for _, key := range os.Args[2:] {
		check(stack.Config.Set(config.MustParseKey(key), config.NewSecureValue("v1:ciphertext"), false))
	}
	out, err := yamlutil.Edit(raw, stack)
	check(err)
	_, err = os.Stdout.Write(out)
	check(err)
}

func check(err error) {
	if err != nil {
		os.Stderr.WriteString("config-set: " + err.Error() + "\n")
		os.Exit(1)
	}
}
