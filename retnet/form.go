package retnet

import "fmt"

// Form selects how retention is computed. All three give the same outputs
// up to the group norm's eps (see the spec): Parallel is O(T^2) and the
// training form, Chunkwise is O(T) with matmuls inside chunks, Recurrent is
// O(1) per token and the decoding form.
type Form string

const (
	Parallel  Form = "parallel"
	Chunkwise Form = "chunkwise"
	Recurrent Form = "recurrent"
)

// Forms lists the three forms.
var Forms = []Form{Parallel, Chunkwise, Recurrent}

// ParseForm maps a name to a Form, with an error naming the valid ones.
func ParseForm(s string) (Form, error) {
	switch Form(s) {
	case Parallel, Chunkwise, Recurrent:
		return Form(s), nil
	}
	return "", fmt.Errorf("retnet: unknown retention form %q (want parallel, recurrent or chunkwise)", s)
}

// DefaultChunk is the chunk size used when none is given (torchscale's
// recurrent_chunk_size default is 512); a shorter sequence is one chunk.
const DefaultChunk = 512
