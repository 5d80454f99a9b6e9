package wire_test

import (
	"fmt"

	"github.com/retlab/retlab/kernel/wire"
)

func ExampleDecode() {
	s, _ := wire.NewSigner("hmac-sha256", []byte("key from the connection file"))
	req := &wire.Message{Header: wire.Header{MsgID: "1", MsgType: "kernel_info_request", Version: wire.ProtocolVersion}}
	frames, _ := wire.Encode(req, s)

	m, err := wire.Decode(frames, s)
	fmt.Println(m.Header.MsgType, err)

	frames[len(frames)-1] = []byte(`{"tampered": true}`)
	_, err = wire.Decode(frames, s)
	fmt.Println(err)
	// Output:
	// kernel_info_request <nil>
	// wire: bad signature
}
