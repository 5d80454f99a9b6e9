// Package wire is the Jupyter messaging protocol on the wire: the connection
// file, the multipart frame layout, HMAC signing, and message decoding that
// checks every field it reads.
//
// A message on a ROUTER socket (shell, control, stdin) arrives as
//
//	[identity...] "<IDS|MSG>" signature header parent_header metadata content [buffer...]
//
// where signature is the lowercase hex HMAC of the four JSON frames that
// follow it, keyed by the connection file's key (empty key: unsigned).
// Decode verifies the signature in constant time before looking at any JSON,
// and rejects malformed frames with an error instead of panicking; a kernel
// drops (and logs) such messages. IOPub messages carry the topic as their
// only identity frame.
package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// ProtocolVersion is the version of the messaging protocol the kernel speaks.
const ProtocolVersion = "5.3"

// Delimiter separates routing identities from the message proper.
const Delimiter = "<IDS|MSG>"

// ConnectionInfo is the connection file Jupyter writes for a kernel.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // tcp or ipc
	IP              string `json:"ip"`        // address to bind (tcp) or path prefix (ipc)
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and checks a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	var c ConnectionInfo
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("wire: connection file: %w", err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("wire: connection file %s: %w", path, err)
	}
	return c, c.Validate()
}

// Validate reports the first problem of c: unknown transport, a bad address
// or port, or an unsupported signature scheme.
func (c ConnectionInfo) Validate() error {
	switch c.Transport {
	case "tcp":
		if net.ParseIP(c.IP) == nil && c.IP != "*" && c.IP != "localhost" {
			return fmt.Errorf("wire: connection file ip %q is not an IP address", c.IP)
		}
	case "ipc":
		if c.IP == "" {
			return errors.New("wire: connection file ip (ipc path prefix) is empty")
		}
	default:
		return fmt.Errorf("wire: connection file transport %q, want tcp or ipc", c.Transport)
	}
	for name, p := range map[string]int{"shell_port": c.ShellPort, "iopub_port": c.IOPubPort, "stdin_port": c.StdinPort, "control_port": c.ControlPort, "hb_port": c.HBPort} {
		if p <= 0 || p > 65535 {
			return fmt.Errorf("wire: connection file %s = %d, want 1..65535", name, p)
		}
	}
	if _, err := NewSigner(c.SignatureScheme, []byte(c.Key)); err != nil {
		return err
	}
	return nil
}

// Endpoint is the ZeroMQ endpoint of port: tcp://IP:port or ipc://IP-port.
func (c ConnectionInfo) Endpoint(port int) string {
	if c.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", c.IP, port)
	}
	ip := c.IP
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	return fmt.Sprintf("tcp://%s:%d", ip, port)
}

// Signer signs and verifies messages with the HMAC of the connection file,
// and remembers the signatures of the last ReplayMemory messages Decode
// accepted, so that a captured message sent again is rejected (ErrReplay),
// as jupyter_client's Session does with its digest_history. A Signer is
// safe for concurrent use.
type Signer struct {
	newHash func() hash.Hash
	key     []byte

	mu     sync.Mutex
	memory int                 // how many signatures to remember (0: none)
	seen   map[uint64]struct{} // the signatures in ring
	ring   []uint64            // the last memory signatures, oldest at next
	next   int
}

// ReplayMemory is how many recent signatures a new Signer remembers
// (jupyter_client keeps 2^16). Each is kept as its first 64 bits (an HMAC's
// bits are uniform: two of 2^16 messages collide with odds of 2^-33), in
// a table allocated at the first message (about 1.5 MB).
const ReplayMemory = 1 << 16

// SetReplayMemory sets how many recent signatures s remembers; 0 turns the
// replay check off (for a peer that must not hold state for what it
// receives, such as a test client counting its heap).
func (s *Signer) SetReplayMemory(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memory, s.seen, s.ring, s.next = max(n, 0), nil, nil, 0
}

// fresh records the (verified, lowercase-equivalent hex) signature sig and
// reports whether it was not among the remembered ones. The oldest one is
// forgotten when the memory is full.
func (s *Signer) fresh(sig []byte) bool {
	var raw [8]byte
	if len(sig) < 16 {
		return true // cannot happen for a verified signature
	}
	hex.Decode(raw[:], bytes.ToLower(sig[:16]))
	k := binary.LittleEndian.Uint64(raw[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memory == 0 {
		return true
	}
	if _, dup := s.seen[k]; dup {
		return false
	}
	if s.seen == nil {
		// Allocated whole at the first message (about 1.5 MB for 2^16), so
		// the memory does not grow, even in steps, while a kernel runs.
		s.seen = make(map[uint64]struct{}, s.memory)
		s.ring = make([]uint64, 0, s.memory)
	}
	if len(s.ring) < s.memory {
		s.ring = append(s.ring, k)
	} else {
		delete(s.seen, s.ring[s.next])
		s.ring[s.next] = k
		s.next = (s.next + 1) % s.memory
	}
	s.seen[k] = struct{}{}
	return true
}

var schemes = map[string]func() hash.Hash{
	"hmac-sha256": sha256.New, "hmac-sha512": sha512.New, "hmac-sha384": sha512.New384,
	"hmac-sha224": sha256.New224, "hmac-sha1": sha1.New,
}

// NewSigner returns a signer for scheme ("hmac-sha256", Jupyter's default
// when empty; also sha1, sha224, sha384, sha512) and key. An empty key
// means messages are neither signed nor checked, as the protocol says.
func NewSigner(scheme string, key []byte) (*Signer, error) {
	if scheme == "" {
		scheme = "hmac-sha256"
	}
	h, ok := schemes[scheme]
	if !ok {
		return nil, fmt.Errorf("wire: unsupported signature_scheme %q (want hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1)", scheme)
	}
	return &Signer{newHash: h, key: append([]byte(nil), key...), memory: ReplayMemory}, nil
}

// Enabled reports whether messages are signed (the key is not empty).
func (s *Signer) Enabled() bool { return len(s.key) > 0 }

// Sign returns the lowercase hex HMAC of parts ("" when the key is empty).
func (s *Signer) Sign(parts ...[]byte) []byte {
	if !s.Enabled() {
		return nil
	}
	m := hmac.New(s.newHash, s.key)
	for _, p := range parts {
		m.Write(p)
	}
	sum := m.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Verify reports whether sig is the signature of parts, comparing in
// constant time. With an empty key every signature is accepted.
func (s *Signer) Verify(sig []byte, parts ...[]byte) bool {
	if !s.Enabled() {
		return true
	}
	return hmac.Equal(bytes.ToLower(sig), s.Sign(parts...))
}

// Header is a message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one decoded message. Header is the parsed header, HeaderRaw its
// exact JSON (a reply's parent_header echoes it byte for byte); ParentHeader,
// Metadata and Content are JSON objects left raw for typed decoding.
type Message struct {
	Identities   [][]byte
	Header       Header
	HeaderRaw    json.RawMessage
	ParentHeader json.RawMessage
	Metadata     json.RawMessage
	Content      json.RawMessage
	Buffers      [][]byte
}

// Errors Decode wraps, for callers that count them.
var (
	ErrNoDelimiter = errors.New("wire: no <IDS|MSG> delimiter")
	ErrShort       = errors.New("wire: fewer than 5 frames after the delimiter")
	ErrSignature   = errors.New("wire: bad signature")
	ErrReplay      = errors.New("wire: replayed message (signature seen before)")
)

// maxJSONFrame bounds each JSON frame; a larger one is malformed (buffers,
// which carry bulk data, are not bounded here).
const maxJSONFrame = 256 << 20

// Decode parses frames received on a ROUTER socket (identities, delimiter,
// signature, header, parent header, metadata, content, buffers), verifying
// the signature first. With a key set, a message whose signature is among
// the last ReplayMemory accepted ones is rejected with ErrReplay (a
// replayed capture; every genuine message has a fresh msg_id and so a fresh
// signature). Every error names what is wrong; Decode never panics.
func Decode(frames [][]byte, s *Signer) (*Message, error) {
	d := -1
	for i, f := range frames {
		if string(f) == Delimiter {
			d = i
			break
		}
	}
	if d < 0 {
		return nil, ErrNoDelimiter
	}
	rest := frames[d+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%w (got %d)", ErrShort, len(rest))
	}
	sig, header, parent, meta, content := rest[0], rest[1], rest[2], rest[3], rest[4]
	if !s.Verify(sig, header, parent, meta, content) {
		return nil, ErrSignature
	}
	if s.Enabled() && !s.fresh(sig) {
		return nil, ErrReplay
	}
	m := &Message{Identities: cloneFrames(frames[:d]), Buffers: cloneFrames(rest[5:])}
	for _, f := range []struct {
		name string
		data []byte
		dst  *json.RawMessage
	}{{"header", header, &m.HeaderRaw}, {"parent_header", parent, &m.ParentHeader}, {"metadata", meta, &m.Metadata}, {"content", content, &m.Content}} {
		if len(f.data) > maxJSONFrame {
			return nil, fmt.Errorf("wire: %s frame of %d bytes is too large", f.name, len(f.data))
		}
		if !isJSONObject(f.data) {
			return nil, fmt.Errorf("wire: %s is not a JSON object", f.name)
		}
		*f.dst = append(json.RawMessage(nil), f.data...)
	}
	if err := json.Unmarshal(header, &m.Header); err != nil {
		return nil, fmt.Errorf("wire: header: %w", err)
	}
	if m.Header.MsgType == "" || m.Header.MsgID == "" {
		return nil, errors.New("wire: header lacks msg_type or msg_id")
	}
	return m, nil
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' || !json.Valid(b) {
		return false
	}
	return true
}

func cloneFrames(f [][]byte) [][]byte {
	if len(f) == 0 {
		return nil
	}
	out := make([][]byte, len(f))
	for i, x := range f {
		out[i] = append([]byte(nil), x...)
	}
	return out
}

// Encode returns the frames of m, signed with s: identities, delimiter,
// signature, header, parent header, metadata, content, buffers. Empty
// ParentHeader, Metadata or Content encode as {}.
func Encode(m *Message, s *Signer) ([][]byte, error) {
	header := m.HeaderRaw
	if len(header) == 0 {
		var err error
		if header, err = json.Marshal(m.Header); err != nil {
			return nil, fmt.Errorf("wire: header: %w", err)
		}
	}
	obj := func(b json.RawMessage) []byte {
		if len(b) == 0 {
			return []byte("{}")
		}
		return b
	}
	parent, meta, content := obj(m.ParentHeader), obj(m.Metadata), obj(m.Content)
	frames := make([][]byte, 0, len(m.Identities)+7+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, []byte(Delimiter), s.Sign(header, parent, meta, content), header, parent, meta, content)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

// NewID returns a random message id (32 hex digits).
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Now is the current time in the ISO 8601 form headers carry.
func Now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000000Z") }

// NewMessage returns a message of type msgType in session, replying to
// parent (nil: no parent) with content marshalled from content. Replies on
// ROUTER sockets are routed back to parent's identities.
func NewMessage(session, msgType string, parent *Message, content any) (*Message, error) {
	c, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("wire: %s content: %w", msgType, err)
	}
	m := &Message{
		Header:  Header{MsgID: NewID(), Session: session, Username: "kernel", Date: Now(), MsgType: msgType, Version: ProtocolVersion},
		Content: c,
	}
	if parent != nil {
		m.ParentHeader = parent.HeaderRaw
		m.Identities = parent.Identities
	}
	return m, nil
}

// DecodeContent unmarshals m's content into v, naming the message type in
// the error.
func (m *Message) DecodeContent(v any) error {
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("wire: %s content: %w", m.Header.MsgType, err)
	}
	return nil
}
