package zoo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

//go:generate go test -run TestGroupsDoc -update .

// Group is a named set of a model's classes whose probabilities are summed: "cat" is ImageNet's
// five domestic cats, so that "tabby", "tiger cat" and "Egyptian cat" count as one cat. A group can
// be watched like a class (pipeline's watch: and actions:), and classify prints the best groups.
type Group struct {
	Name        string
	Description string
	// Classes are class indices, ascending: ImageNet's 0..999 in ImageNetGroups; indices into the
	// labels in what GroupsFor returns.
	Classes []int
	// Spec is how the group is written in this file: index ranges and other groups' names.
	Spec string
}

// ImageNetGroups are the built-in groups of ImageNet's 1000 classes, taken from the WordNet
// hierarchy the classes come from (ImageNet's class order is WordNet's, so most groups are index
// ranges). models/zoo/GROUPS.md lists every group's classes by name.
var ImageNetGroups = imagenetGroups([]groupSpec{
	{"cat", "domestic cats", "281-285"},
	{"wild_cat", "the other felines: cougar, lynx and the big cats", "286-293"},
	{"dog", "domestic dogs: the 118 breeds", "151-268"},
	{"wild_canine", "wolves, coyote, dingo, dhole, African hunting dog, hyena, foxes", "269-280"},
	{"pet", "cat and dog", "cat dog"},
	{"bird", "birds", "7-24 80-100 127-146"},
	{"fish", "fishes, sharks and rays", "0-6 389-397"},
	{"amphibian", "salamanders, newts and frogs", "25-32"},
	{"reptile", "turtles, lizards, crocodilians, triceratops and snakes", "33-68"},
	{"arachnid", "harvestman, scorpion, spiders and tick", "70-78"},
	{"insect", "beetles, flies, bees, ants, grasshoppers, cockroach, mantis, dragonflies, butterflies", "300-326"},
	{"bear", "bears", "294-297"},
	{"primate", "apes, monkeys and lemurs", "365-384"},
	{"rodent", "hamster, porcupine, squirrel, marmot, beaver, guinea pig", "333-338"},
	{"rabbit", "rabbits and hare", "330-332"},
	{"farm_animal", "cock, hen, drake, goose, sorrel (horse), hog, ox, ram", "7-8 97 99 339 341 345 348"},
	{"mammal", "mammals", "101-106 147-150 151-299 330-388"},
	{"animal", "every animal class: ImageNet's classes 0 to 397", "0-397"},
	{"person", "the classes that are people: ballplayer, groom, scuba diver (ImageNet has no 'person' class; see clothing)", "981-983"},
	{"clothing", "garments: a person in view often shows as what they wear", "399-400 411 445 457 459 474 501 568 578 601 608 610 614 617 638-639 652 655 689 697 735 775 834 841-842 869 887 906"},
	{"car", "cars: ambulance, station wagon, cab, convertible, jeep, limousine, minivan, Model T, racer, sports car", "407 436 468 511 609 627 656 661 751 817"},
	{"truck", "trucks and vans", "555 569 675 717 734 864 867"},
	{"bus", "minibus, school bus, trolleybus", "654 779 874"},
	{"bike", "bicycles, moped, scooter, tricycle, unicycle", "444 665 670-671 870 880"},
	{"vehicle", "road and land vehicles: car, truck, bus, bike and other wheeled or tracked vehicles", "car truck bus bike 408 561 573 575 586 603 612 690 757 802-803 847 866"},
	{"boat", "boats and ships", "403 472 484 510 554 576 625 628 724 780 814 833 871 914"},
	{"aircraft", "airliner, airship, warplane", "404-405 895"},
	{"train", "trains, locomotives, rail cars and streetcar", "466 547 565 705 820 829"},
	{"food", "dishes, bread, fruit and vegetables", "923-957 959-965"},
	{"fruit", "fruit", "948-957"},
	{"vegetable", "vegetables", "936-946"},
	{"drink", "red wine, espresso, cup (punch), eggnog", "966-969"},
	{"ball", "balls for games", "429-430 522 574 722 768 805 852 890"},
	{"plant", "flowers, seeds and plant parts", "984-990 998"},
	{"fungus", "mushrooms and other fungi", "991-997"},
	{"landscape", "mountains, cliffs, reefs, shores, valleys, volcanoes", "970 972-980"},
})

// CIFAR10Groups are the built-in groups of CIFAR-10's 10 classes (the embedded fallback model's),
// named as ImageNet's so that a configuration watching "vehicle" or "pet" works with either model.
var CIFAR10Groups = []Group{
	{Name: "pet", Description: "cat and dog", Classes: []int{3, 5}, Spec: "3 5"},
	{Name: "car", Description: "automobile", Classes: []int{1}, Spec: "1"},
	{Name: "vehicle", Description: "automobile and truck", Classes: []int{1, 9}, Spec: "1 9"},
	{Name: "boat", Description: "ship", Classes: []int{8}, Spec: "8"},
	{Name: "aircraft", Description: "airplane", Classes: []int{0}, Spec: "0"},
	{Name: "animal", Description: "bird, cat, deer, dog, frog, horse", Classes: []int{2, 3, 4, 5, 6, 7}, Spec: "2-7"},
}

var cifar10Labels = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

type groupSpec struct{ name, desc, spec string }

// imagenetGroups parses the specs: "a-b" ranges, single indices and the names of groups given
// before. A malformed spec is a programming error: it panics (and TestImageNetGroups runs it).
func imagenetGroups(specs []groupSpec) []Group {
	var groups []Group
	byName := map[string][]int{}
	for _, s := range specs {
		in := map[int]bool{}
		for _, tok := range strings.Fields(s.spec) {
			if members, ok := byName[tok]; ok {
				for _, m := range members {
					in[m] = true
				}
				continue
			}
			lo, hi, ok := strings.Cut(tok, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := a, error(nil)
			if ok {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a < 0 || b < a || b > 999 {
				panic(fmt.Sprintf("zoo: group %s: bad range or unknown group %q", s.name, tok))
			}
			for i := a; i <= b; i++ {
				in[i] = true
			}
		}
		classes := make([]int, 0, len(in))
		for i := range 1000 {
			if in[i] {
				classes = append(classes, i)
			}
		}
		byName[s.name] = classes
		groups = append(groups, Group{Name: s.name, Description: s.desc, Classes: classes, Spec: s.spec})
	}
	return groups
}

// ShortLabel is a label's first name: "tabby" for "tabby, tabby cat".
func ShortLabel(label string) string {
	s, _, _ := strings.Cut(label, ",")
	return strings.TrimSpace(s)
}

// ImageNetOffset reports whether labels are ImageNet's 1000 classes in their usual order, and the
// index of class 0 in them: 0, or 1 when a "background" class comes first (as in the TensorFlow
// Lite classifiers' 1001 labels).
func ImageNetOffset(labels []string) (int, bool) {
	off := 0
	switch {
	case len(labels) == 1000:
	case len(labels) == 1001 && strings.EqualFold(labels[0], "background"):
		off = 1
	default:
		return 0, false
	}
	for i, want := range map[int]string{0: "tench", 151: "Chihuahua", 281: "tabby", 817: "sports car", 999: "toilet tissue"} {
		if ShortLabel(labels[off+i]) != want {
			return 0, false
		}
	}
	return off, true
}

// GroupsFor returns the built-in groups for a model with these labels, their Classes as indices
// into labels: ImageNetGroups for ImageNet's labels (1000, or 1001 with "background" first),
// CIFAR10Groups for CIFAR-10's, none otherwise. A group named like one of the labels is left out
// (the label wins).
func GroupsFor(labels []string) []Group {
	var src []Group
	off, ok := ImageNetOffset(labels)
	switch {
	case ok:
		src = ImageNetGroups
	case slices.Equal(labels, cifar10Labels):
		src = CIFAR10Groups
	default:
		return nil
	}
	isLabel := make(map[string]bool, len(labels))
	for _, l := range labels {
		isLabel[l] = true
	}
	out := make([]Group, 0, len(src))
	for _, g := range src {
		if isLabel[g.Name] {
			continue
		}
		c := make([]int, len(g.Classes))
		for i, k := range g.Classes {
			c[i] = k + off
		}
		g.Classes = c
		out = append(out, g)
	}
	return out
}
