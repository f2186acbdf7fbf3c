package quantize

// ReshapeGroups exposes reshapeGroups to the tests.
var ReshapeGroups = reshapeGroups
