package zoo

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/shareddata"
)

var update = flag.Bool("update", false, "rewrite GROUPS.md from the groups and ImageNet's labels")

// imagenetLabels1001 reads the shared ImageNet labels: "background" and the 1000 classes.
func imagenetLabels1001(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(shareddata.Path(t, "imagenet/imagenet_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	labels := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(labels) != 1001 {
		t.Fatalf("imagenet_labels.txt: %d labels, want 1001", len(labels))
	}
	return labels
}

// The groups hold what their names say: checked by name against ImageNet's labels at every range's
// ends and inside, so that an index off by one fails.
func TestImageNetGroups(t *testing.T) {
	labels := imagenetLabels1001(t)[1:]
	name := func(i int) string { return ShortLabel(labels[i]) }
	byName := map[string]Group{}
	for _, g := range ImageNetGroups {
		if _, dup := byName[g.Name]; dup {
			t.Errorf("group %s twice", g.Name)
		}
		byName[g.Name] = g
		if len(g.Classes) == 0 || g.Description == "" {
			t.Errorf("group %s: %d classes, description %q", g.Name, len(g.Classes), g.Description)
		}
		for _, l := range labels {
			if l == g.Name {
				t.Errorf("group %s has the name of a class", g.Name)
			}
		}
	}
	has := func(group string, want ...string) {
		t.Helper()
		g, ok := byName[group]
		if !ok {
			t.Fatalf("no group %s", group)
		}
		got := map[string]bool{}
		for _, k := range g.Classes {
			got[name(k)] = true
		}
		for _, w := range want {
			neg := strings.HasPrefix(w, "!")
			w = strings.TrimPrefix(w, "!")
			if got[w] == neg {
				t.Errorf("group %s: has %q = %v, want %v", group, w, got[w], !neg)
			}
		}
	}
	has("cat", "tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "!grey fox", "!cougar")
	has("wild_cat", "cougar", "lynx", "lion", "tiger", "cheetah", "!Egyptian cat", "!brown bear")
	has("dog", "Chihuahua", "beagle", "golden retriever", "German shepherd", "Mexican hairless", "!sea lion", "!timber wolf")
	has("wild_canine", "timber wolf", "coyote", "hyena", "red fox", "grey fox", "!Mexican hairless", "!tabby")
	has("pet", "tabby", "Chihuahua", "Mexican hairless", "Egyptian cat", "!lynx")
	has("bird", "cock", "hen", "ostrich", "great grey owl", "black grouse", "black swan", "white stork", "albatross",
		"!European fire salamander", "!centipede", "!tusker", "!isopod", "!grey whale", "!tench")
	has("fish", "tench", "stingray", "barracouta", "puffer", "!cock", "!abacus")
	has("amphibian", "European fire salamander", "tailed frog", "eft", "!loggerhead")
	has("reptile", "loggerhead", "Komodo dragon", "American alligator", "triceratops", "thunder snake", "sidewinder", "!tailed frog", "!trilobite")
	has("arachnid", "harvestman", "scorpion", "tarantula", "tick", "!trilobite", "!centipede")
	has("insect", "tiger beetle", "bee", "mantis", "lycaenid", "!starfish", "!meerkat")
	has("bear", "brown bear", "sloth bear", "!cheetah", "!mongoose")
	has("primate", "orangutan", "indri", "!three-toed sloth", "!Indian elephant")
	has("rodent", "hamster", "guinea pig", "!Angora", "!sorrel")
	has("rabbit", "wood rabbit", "hare", "Angora", "!hamster")
	has("mammal", "tusker", "wombat", "grey whale", "sea lion", "Chihuahua", "meerkat", "wood rabbit", "giant panda", "!jellyfish", "!barracouta", "!black swan", "!tiger beetle")
	has("animal", "tench", "puffer", "!abacus")
	has("person", "ballplayer", "groom", "scuba diver", "!volcano", "!rapeseed")
	has("clothing", "abaya", "military uniform", "suit", "jersey", "sweatshirt", "Windsor tie", "!accordion")
	has("car", "ambulance", "beach wagon", "cab", "convertible", "jeep", "limousine", "minivan", "Model T", "racer", "sports car", "!pickup", "!passenger car")
	has("truck", "fire engine", "garbage truck", "moving van", "pickup", "police van", "tow truck", "trailer truck", "!minivan")
	has("bus", "minibus", "school bus", "trolleybus", "!streetcar")
	has("bike", "bicycle-built-for-two", "moped", "motor scooter", "mountain bike", "tricycle", "unicycle")
	has("vehicle", "sports car", "pickup", "school bus", "moped", "tractor", "tank", "snowmobile", "forklift", "!airliner", "!canoe", "!steam locomotive", "!car wheel")
	has("boat", "aircraft carrier", "canoe", "container ship", "liner", "speedboat", "submarine", "yawl", "!wreck")
	has("aircraft", "airliner", "airship", "warplane", "!space shuttle")
	has("train", "bullet train", "electric locomotive", "freight car", "passenger car", "steam locomotive", "streetcar", "!trolleybus")
	has("food", "plate", "guacamole", "pizza", "burrito", "cheeseburger", "Granny Smith", "broccoli", "mushroom", "!hay", "!red wine", "!rapeseed")
	has("fruit", "Granny Smith", "pomegranate", "!mushroom")
	has("vegetable", "head cabbage", "cardoon", "!mushroom")
	has("drink", "red wine", "espresso", "eggnog", "!alp")
	has("ball", "baseball", "soccer ball", "volleyball", "tennis ball", "golf ball", "!balloon")
	has("plant", "rapeseed", "daisy", "corn", "buckeye", "ear", "!coral fungus")
	has("fungus", "coral fungus", "bolete", "!ear")
	has("landscape", "alp", "volcano", "seashore", "!bubble")
	if n := len(byName["dog"].Classes); n != 118 {
		t.Errorf("dog: %d classes, want 118", n)
	}
	if n := len(byName["animal"].Classes); n != 398 {
		t.Errorf("animal: %d classes, want 398", n)
	}
}

// GroupsFor finds ImageNet's labels with and without "background", and CIFAR-10's, and shifts the
// indices to the labels'.
func TestGroupsFor(t *testing.T) {
	labels := imagenetLabels1001(t)
	for _, l := range [][]string{labels, labels[1:]} {
		off, ok := ImageNetOffset(l)
		gs := GroupsFor(l)
		if !ok || off != len(l)-1000 || len(gs) != len(ImageNetGroups) {
			t.Fatalf("%d labels: offset %d, %v, %d groups", len(l), off, ok, len(gs))
		}
		for _, g := range gs {
			if g.Name == "cat" {
				for _, k := range g.Classes {
					if !strings.Contains(l[k], "cat") && ShortLabel(l[k]) != "tabby" {
						t.Errorf("%d labels: cat group holds %q", len(l), l[k])
					}
				}
			}
		}
	}
	shuffled := append([]string(nil), labels...)
	shuffled[282], shuffled[283] = shuffled[283], shuffled[282]
	shuffled[1], shuffled[2] = shuffled[2], shuffled[1]
	if _, ok := ImageNetOffset(shuffled); ok {
		t.Error("ImageNet labels in another order taken for ImageNet's")
	}
	cifar := GroupsFor(cifar10Labels)
	if len(cifar) != len(CIFAR10Groups) {
		t.Fatalf("CIFAR-10: %d groups", len(cifar))
	}
	for _, g := range cifar {
		for _, k := range g.Classes {
			if k < 0 || k >= 10 {
				t.Errorf("CIFAR-10 group %s: class %d", g.Name, k)
			}
		}
	}
	if gs := GroupsFor([]string{"a", "b"}); gs != nil {
		t.Errorf("other labels: %v", gs)
	}
}

// GROUPS.md is generated from the groups and ImageNet's labels; `go generate ./models/zoo` (or this
// test with -update) rewrites it.
func TestGroupsDoc(t *testing.T) {
	labels := imagenetLabels1001(t)[1:]
	var b bytes.Buffer
	b.WriteString("# Label groups\n\n")
	b.WriteString("<!-- Generated by `go generate ./models/zoo` (TestGroupsDoc -update) from groups.go and ImageNet's labels; do not edit. -->\n\n")
	b.WriteString("A group's score is the sum of its classes' probabilities. `edgeinfer classify` prints the best groups\n")
	b.WriteString("after the best classes, and `watch:` and `actions:` in edgeinfer.yaml take group names as they take\n")
	b.WriteString("class names; `groups:` there defines more (see the README). The built-in groups below apply to\n")
	b.WriteString("models with ImageNet's labels (1000 classes, or 1001 with \"background\" first, as the TensorFlow Lite\n")
	b.WriteString("classifiers have: indices here are ImageNet's 0..999, one less than those models' output indices).\n")
	b.WriteString("They follow the WordNet hierarchy the classes come from; ImageNet's class order is WordNet's, so most\n")
	b.WriteString("groups are index ranges. A class may be in several groups (a tabby is in cat, pet, mammal and animal).\n\n")
	b.WriteString("| group | classes | what | ImageNet indices |\n|---|---|---|---|\n")
	for _, g := range ImageNetGroups {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %d | %s | %s |\n", g.Name, g.Name, len(g.Classes), g.Description, g.Spec)
	}
	b.WriteString("\nCIFAR-10 models (the embedded fallback) have these groups, named as ImageNet's so that a\n")
	b.WriteString("configuration works with either model (cat, dog, bird, horse, truck are CIFAR-10 classes):\n\n")
	b.WriteString("| group | classes |\n|---|---|\n")
	for _, g := range CIFAR10Groups {
		names := make([]string, len(g.Classes))
		for i, k := range g.Classes {
			names[i] = cifar10Labels[k]
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", g.Name, strings.Join(names, ", "))
	}
	for _, g := range ImageNetGroups {
		fmt.Fprintf(&b, "\n## %s\n\n%s; %d classes (%s):\n\n", g.Name, g.Description, len(g.Classes), g.Spec)
		names := make([]string, len(g.Classes))
		for i, k := range g.Classes {
			names[i] = fmt.Sprintf("%d %s", k, ShortLabel(labels[k]))
		}
		b.WriteString(strings.Join(names, " · ") + "\n")
	}
	if *update {
		if err := os.WriteFile("GROUPS.md", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile("GROUPS.md")
	if err != nil || !bytes.Equal(old, b.Bytes()) {
		t.Fatalf("models/zoo/GROUPS.md is not up to date (%v): run 'go generate ./models/zoo'", err)
	}
}
