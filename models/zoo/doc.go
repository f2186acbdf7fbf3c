// Package zoo knows the models edgeinfer can fetch by name and keeps them in a user cache:
// public pretrained classifiers (the Coral project's quantized MobileNets), verified by SHA-256
// before they are used.
package zoo
