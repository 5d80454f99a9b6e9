package wire_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/retlab/retlab/kernel/wire"
)

var key = []byte("a0436f6c-1916-498b-8eb9-e81ab9368e84")

func signer(t testing.TB) *wire.Signer {
	s, err := wire.NewSigner("hmac-sha256", key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// frames builds a signed message independently of Encode: the HMAC is
// computed here with crypto/hmac directly.
func frames(header, parent, meta, content string, ids ...string) [][]byte {
	m := hmac.New(sha256.New, key)
	for _, p := range []string{header, parent, meta, content} {
		m.Write([]byte(p))
	}
	var f [][]byte
	for _, id := range ids {
		f = append(f, []byte(id))
	}
	return append(f, []byte("<IDS|MSG>"), []byte(hex.EncodeToString(m.Sum(nil))), []byte(header), []byte(parent), []byte(meta), []byte(content))
}

const hdr = `{"msg_id":"m1","session":"s1","username":"u","date":"2024-01-01T00:00:00Z","msg_type":"execute_request","version":"5.3"}`

func TestDecodeValid(t *testing.T) {
	f := frames(hdr, `{}`, `{}`, `{"code":"1+1","silent":false}`, "client-id")
	m, err := wire.Decode(f, signer(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.MsgType != "execute_request" || m.Header.MsgID != "m1" || string(m.Identities[0]) != "client-id" {
		t.Fatalf("decoded %+v", m)
	}
	var req wire.ExecuteRequest
	if err := m.DecodeContent(&req); err != nil || req.Code != "1+1" || !req.Store() || !req.StopsOnError() {
		t.Fatalf("content %+v %v", req, err)
	}
}

func TestBadSignatureRejected(t *testing.T) {
	good := frames(hdr, `{}`, `{}`, `{"code":"1"}`)
	s := signer(t)
	for name, mutate := range map[string]func(f [][]byte){
		"flipped signature": func(f [][]byte) { f[1][0] ^= 1 },
		"empty signature":   func(f [][]byte) { f[1] = nil },
		"tampered content":  func(f [][]byte) { f[5] = []byte(`{"code":"2"}`) },
		"tampered header":   func(f [][]byte) { f[2] = bytes.Replace(f[2], []byte("m1"), []byte("m2"), 1) },
		"short signature":   func(f [][]byte) { f[1] = f[1][:10] },
	} {
		f := make([][]byte, len(good))
		for i := range good {
			f[i] = append([]byte(nil), good[i]...)
		}
		mutate(f)
		if _, err := wire.Decode(f, s); !errors.Is(err, wire.ErrSignature) {
			t.Errorf("%s: err %v, want ErrSignature", name, err)
		}
	}
	other, _ := wire.NewSigner("hmac-sha256", []byte("other key"))
	if _, err := wire.Decode(good, other); !errors.Is(err, wire.ErrSignature) {
		t.Errorf("wrong key accepted: %v", err)
	}
	sha512, _ := wire.NewSigner("hmac-sha512", key)
	if _, err := wire.Decode(good, sha512); !errors.Is(err, wire.ErrSignature) {
		t.Errorf("wrong scheme accepted: %v", err)
	}
}

func TestMalformedFrames(t *testing.T) {
	s := signer(t)
	cases := map[string][][]byte{
		"no delimiter":       {[]byte("id"), []byte("sig")},
		"empty":              nil,
		"short":              frames(hdr, `{}`, `{}`, `{}`)[:4],
		"header not json":    frames(`{"msg_id":`, `{}`, `{}`, `{}`),
		"header array":       frames(`[1,2]`, `{}`, `{}`, `{}`),
		"content string":     frames(hdr, `{}`, `{}`, `"code"`),
		"parent null":        frames(hdr, `null`, `{}`, `{}`),
		"msg_type number":    frames(`{"msg_id":"a","msg_type":7}`, `{}`, `{}`, `{}`),
		"missing msg_type":   frames(`{"msg_id":"a"}`, `{}`, `{}`, `{}`),
		"trailing garbage":   frames(hdr+"x", `{}`, `{}`, `{}`),
		"metadata not utf-8": frames(hdr, `{}`, "{\"a\":\"\xff\"}", `{}`),
	}
	for name, f := range cases {
		m, err := wire.Decode(f, s)
		if name == "metadata not utf-8" {
			// encoding/json accepts invalid UTF-8 in strings (replacing it); that is fine.
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted: %+v", name, m)
		}
	}
}

func TestTypedContentErrors(t *testing.T) {
	f := frames(hdr, `{}`, `{}`, `{"code":42}`)
	m, err := wire.Decode(f, signer(t))
	if err != nil {
		t.Fatal(err)
	}
	var req wire.ExecuteRequest
	if err := m.DecodeContent(&req); err == nil || !strings.Contains(err.Error(), "execute_request") {
		t.Fatalf("code:42 decoded without a named error: %v", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	s := signer(t)
	req, _ := wire.Decode(frames(hdr, `{}`, `{}`, `{"code":"x"}`, "peer"), s)
	rep, err := wire.NewMessage("kernel-session", "execute_reply", req, wire.ExecuteReply{Status: "ok", ExecutionCount: 3})
	if err != nil {
		t.Fatal(err)
	}
	rep.Buffers = [][]byte{{1, 2, 3}}
	f, err := wire.Encode(rep, s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := wire.Decode(f, s)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Identities[0]) != "peer" || back.Header.MsgType != "execute_reply" || back.Header.Version != wire.ProtocolVersion {
		t.Fatalf("round trip %+v", back)
	}
	if string(back.ParentHeader) != hdr {
		t.Fatalf("parent header not echoed byte for byte: %s", back.ParentHeader)
	}
	if !bytes.Equal(back.Buffers[0], []byte{1, 2, 3}) {
		t.Fatal("buffers lost")
	}
	// The signature is the HMAC of the four JSON frames, computed independently.
	m := hmac.New(sha256.New, key)
	for _, p := range f[3:7] {
		m.Write(p)
	}
	if string(f[2]) != hex.EncodeToString(m.Sum(nil)) {
		t.Fatal("signature is not HMAC-SHA256 over header, parent, metadata, content")
	}
}

// Issue 16 item 2: the same signed message sent again is rejected, as
// jupyter_client's Session rejects a duplicate signature; the memory is
// bounded (the oldest signature is forgotten first).
func TestReplayRejected(t *testing.T) {
	s := signer(t)
	f := frames(hdr, `{}`, `{}`, `{"code":"counter++"}`)
	if _, err := wire.Decode(f, s); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := wire.Decode(f, s); !errors.Is(err, wire.ErrReplay) {
			t.Fatalf("replay %d: err %v, want ErrReplay", i+1, err)
		}
	}
	up := append([][]byte(nil), f...)
	up[1] = bytes.ToUpper(f[1])
	if _, err := wire.Decode(up, s); !errors.Is(err, wire.ErrReplay) {
		t.Fatalf("replay with an upper-case signature: err %v, want ErrReplay", err)
	}
	// A mis-signed message is not remembered (it cannot push out real ones).
	bad := append([][]byte(nil), f...)
	bad[5] = []byte(`{"code":"x"}`)
	if _, err := wire.Decode(bad, s); !errors.Is(err, wire.ErrSignature) {
		t.Fatalf("mis-signed: %v", err)
	}
	// Bounded: after ReplayMemory newer messages the first is forgotten.
	for i := 0; i < wire.ReplayMemory; i++ {
		h := strings.Replace(hdr, `"m1"`, `"n`+strconv.Itoa(i)+`"`, 1)
		if _, err := wire.Decode(frames(h, `{}`, `{}`, `{}`), s); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if _, err := wire.Decode(f, s); err != nil {
		t.Fatalf("after %d newer messages the memory still holds the first: %v", wire.ReplayMemory, err)
	}
}

func TestUnsignedWhenKeyEmpty(t *testing.T) {
	s, _ := wire.NewSigner("", nil)
	f := frames(hdr, `{}`, `{}`, `{}`)
	f[1] = nil
	if _, err := wire.Decode(f, s); err != nil {
		t.Fatalf("empty key must accept unsigned messages: %v", err)
	}
	if s.Sign([]byte("x")) != nil {
		t.Fatal("empty key signs")
	}
}

func TestConnectionFile(t *testing.T) {
	dir := t.TempDir()
	good := map[string]any{"transport": "tcp", "ip": "127.0.0.1", "shell_port": 5001, "iopub_port": 5002, "stdin_port": 5003,
		"control_port": 5004, "hb_port": 5005, "key": "k", "signature_scheme": "hmac-sha256", "kernel_name": "retlab"}
	write := func(m map[string]any) string {
		b, _ := json.Marshal(m)
		p := filepath.Join(dir, "c.json")
		os.WriteFile(p, b, 0o600)
		return p
	}
	c, err := wire.ReadConnectionFile(write(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint(c.ShellPort) != "tcp://127.0.0.1:5001" {
		t.Fatalf("endpoint %s", c.Endpoint(c.ShellPort))
	}
	for field, bad := range map[string]any{"transport": "udp", "ip": "not an ip", "hb_port": 0, "signature_scheme": "hmac-md5", "shell_port": "x"} {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		m[field] = bad
		if _, err := wire.ReadConnectionFile(write(m)); err == nil {
			t.Errorf("%s=%v accepted", field, bad)
		}
	}
	if _, err := wire.ReadConnectionFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

// FuzzDecode feeds arbitrary frames to Decode: it must never panic, and a
// message it accepts must re-encode to frames that decode to the same
// header and content.
func FuzzDecode(f *testing.F) {
	s := signer(f)
	join := func(fr [][]byte) []byte { return bytes.Join(fr, []byte{0}) }
	f.Add(join(frames(hdr, `{}`, `{}`, `{"code":"1+1"}`, "id")), true)
	f.Add(join(frames(`{"msg_id":"x","msg_type":"kernel_info_request"}`, `{}`, `{}`, `{}`)), true)
	f.Add([]byte("<IDS|MSG>\x00sig\x00{}\x00{}\x00{}\x00{}"), false)
	f.Add([]byte("garbage"), false)
	// Adversarial frames (issue 16): a replayed message twice in one input, an upper-case
	// signature, an oversized-looking header, a delimiter with nothing after it, NUL-free junk
	// where JSON is expected, deeply nested content.
	f.Add(join(append(frames(hdr, `{}`, `{}`, `{"code":"counter++"}`), frames(hdr, `{}`, `{}`, `{"code":"counter++"}`)...)), false)
	f.Add([]byte("<IDS|MSG>\x00"+strings.ToUpper(string(frames(hdr, `{}`, `{}`, `{}`)[1]))+"\x00"+hdr+"\x00{}\x00{}\x00{}"), false)
	f.Add([]byte("<IDS|MSG>"), false)
	f.Add([]byte("<IDS|MSG>\x00\x00\x00\x00\x00\x00"), true)
	f.Add([]byte("id\x00<IDS|MSG>\x00s\x00{\"msg_id\":\"a\",\"msg_type\":\"x\",\"msg_id\":\"\"}\x00{}\x00{}\x00"+strings.Repeat("[", 10000)), true)
	f.Add([]byte("<IDS|MSG>\x00s\x00{\"msg_id\":1e999,\"msg_type\":\"x\"}\x00{}\x00{}\x00{}"), true)
	f.Fuzz(func(t *testing.T, data []byte, resign bool) {
		fr := bytes.Split(data, []byte{0})
		if resign {
			// Re-sign so the fuzzer explores the JSON checks past the signature.
			for i, x := range fr {
				if string(x) == wire.Delimiter && len(fr) >= i+6 {
					fr[i+1] = s.Sign(fr[i+2], fr[i+3], fr[i+4], fr[i+5])
					break
				}
			}
		}
		m, err := wire.Decode(fr, s)
		if err != nil {
			return
		}
		var generic map[string]any
		if json.Unmarshal(m.Content, &generic) != nil {
			t.Fatalf("accepted content that is not a JSON object: %q", m.Content)
		}
		out, err := wire.Encode(m, s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := wire.Decode(out, signer(t)) // a fresh signer: s has seen this signature
		if err != nil {
			t.Fatalf("re-encoded message rejected: %v", err)
		}
		if back.Header != m.Header || !bytes.Equal(back.Content, m.Content) {
			t.Fatal("round trip changed the message")
		}
	})
}
