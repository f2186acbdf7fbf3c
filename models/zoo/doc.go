// Package zoo knows the models edgeinfer can use by name: the project's own CIFAR-10 models,
// embedded in the binary (Builtins; DefaultModel is one of them), and public pretrained classifiers
// (the Coral project's quantized MobileNets) fetched into a user cache and verified by SHA-256
// before they are used.
package zoo
