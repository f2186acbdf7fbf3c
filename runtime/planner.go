package runtime

import (
	"sort"

	"github.com/edgeinfer/edgeinfer/models"
)

// arenaAlign is the alignment of every tensor in the activation arena: a cache line, enough for
// any vector load.
const arenaAlign = 64

// MemoryPlan says where each activation tensor lives in the arena.
type MemoryPlan struct {
	// Offset of each tensor in the arena; -1 for constants and unused tensors.
	Offset []int
	// Size in bytes of each tensor (0 for constants).
	Size []int
	// First and Last are the indices of the ops between which the tensor is live (inclusive);
	// graph inputs span all ops and graph outputs end at len(ops)-1.
	First, Last []int
	// ArenaSize is the total number of bytes; NaiveSize what one buffer per tensor would need.
	ArenaSize, NaiveSize int
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// planMemory assigns arena offsets greedily, largest tensors first, each at the lowest offset that
// does not overlap a placed tensor whose lifetime intersects its own (the strategy of TensorFlow
// Lite's greedy arena planner). An op's inputs and outputs are live at the same op, so they never
// share bytes.
func planMemory(m *models.Model) *MemoryPlan {
	n := len(m.Tensors)
	p := &MemoryPlan{Offset: make([]int, n), Size: make([]int, n), First: make([]int, n), Last: make([]int, n)}
	for i := range p.Offset {
		p.Offset[i], p.First[i], p.Last[i] = -1, -1, -1
	}
	last := len(m.Ops) - 1
	touch := func(t, op int) {
		if t < 0 || m.Tensors[t].IsConst() {
			return
		}
		if p.First[t] < 0 || op < p.First[t] {
			p.First[t] = op
		}
		if op > p.Last[t] {
			p.Last[t] = op
		}
	}
	// Graph inputs stay intact for the whole run (as in TensorFlow Lite's arena planner), so a
	// caller can read back what it fed.
	for _, t := range m.Inputs {
		touch(t, 0)
		touch(t, last)
	}
	for i, op := range m.Ops {
		for _, t := range op.Inputs {
			touch(t, i)
		}
		for _, t := range op.Outputs {
			touch(t, i)
		}
	}
	for _, t := range m.Outputs {
		touch(t, last)
	}
	var order []int
	for t := range m.Tensors {
		if p.First[t] >= 0 {
			tt := &m.Tensors[t]
			p.Size[t] = tt.NumElements() * tt.Type.Size()
			p.NaiveSize += alignUp(p.Size[t], arenaAlign)
			order = append(order, t)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return p.Size[order[a]] > p.Size[order[b]] })
	var placed []int
	for _, t := range order {
		// Collect the placed tensors alive at the same time, by offset.
		var live []int
		for _, u := range placed {
			if p.First[u] <= p.Last[t] && p.First[t] <= p.Last[u] {
				live = append(live, u)
			}
		}
		sort.Slice(live, func(a, b int) bool { return p.Offset[live[a]] < p.Offset[live[b]] })
		off := 0
		for _, u := range live {
			if off+p.Size[t] <= p.Offset[u] {
				break
			}
			if end := alignUp(p.Offset[u]+p.Size[u], arenaAlign); end > off {
				off = end
			}
		}
		p.Offset[t] = off
		if end := alignUp(off+p.Size[t], arenaAlign); end > p.ArenaSize {
			p.ArenaSize = end
		}
		placed = append(placed, t)
	}
	return p
}
