package wire

import "encoding/json"

// Request contents. Pointer fields distinguish "absent" from false/zero
// where the protocol gives a default other than the zero value.

// ExecuteRequest is execute_request's content.
type ExecuteRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"` // default true (false when silent)
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      *bool             `json:"allow_stdin"`   // default true
	StopOnError     *bool             `json:"stop_on_error"` // default true
}

// Store reports whether the execution is stored in history and counted.
func (r ExecuteRequest) Store() bool {
	if r.Silent {
		return false
	}
	return r.StoreHistory == nil || *r.StoreHistory
}

// StopsOnError reports whether an error aborts the queued executions.
func (r ExecuteRequest) StopsOnError() bool { return r.StopOnError == nil || *r.StopOnError }

// Stdin reports whether the front end accepts input_request.
func (r ExecuteRequest) Stdin() bool { return r.AllowStdin == nil || *r.AllowStdin }

// CodeRequest is the content of complete_request and inspect_request
// (cursor_pos counts Unicode code points) and of is_complete_request.
type CodeRequest struct {
	Code        string `json:"code"`
	CursorPos   *int   `json:"cursor_pos"` // default: end of code
	DetailLevel int    `json:"detail_level"`
}

// HistoryRequest is history_request's content.
type HistoryRequest struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"` // range, tail, search
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           int    `json:"stop"`
	N              int    `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
}

// CommInfoRequest is comm_info_request's content.
type CommInfoRequest struct {
	TargetName string `json:"target_name"`
}

// Comm is the content of comm_open, comm_msg and comm_close.
type Comm struct {
	CommID     string          `json:"comm_id"`
	TargetName string          `json:"target_name,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// ShutdownRequest is the content of shutdown_request and shutdown_reply.
type ShutdownRequest struct {
	Status  string `json:"status,omitempty"`
	Restart bool   `json:"restart"`
}

// InputReply is input_reply's content.
type InputReply struct {
	Value string `json:"value"`
}

// Reply and IOPub contents.

// ErrorContent is the content of an error reply and of the error message.
type ErrorContent struct {
	Status         string         `json:"status,omitempty"` // "error" in replies, absent on iopub
	ExecutionCount *int           `json:"execution_count,omitempty"`
	EName          string         `json:"ename"`
	EValue         string         `json:"evalue"`
	Traceback      []string       `json:"traceback"`
	UserExprs      map[string]any `json:"user_expressions,omitempty"`
}

// ExecuteReply is an ok or aborted execute_reply.
type ExecuteReply struct {
	Status          string         `json:"status"`
	ExecutionCount  int            `json:"execution_count"`
	Payload         []any          `json:"payload"`
	UserExpressions map[string]any `json:"user_expressions"`
}

// DisplayData is the content of display_data, update_display_data and
// execute_result (with ExecutionCount).
type DisplayData struct {
	ExecutionCount *int           `json:"execution_count,omitempty"`
	Data           map[string]any `json:"data"`
	Metadata       map[string]any `json:"metadata"`
	Transient      map[string]any `json:"transient,omitempty"`
}

// Stream is stream's content.
type Stream struct {
	Name string `json:"name"` // stdout or stderr
	Text string `json:"text"`
}

// Status is status's content.
type Status struct {
	ExecutionState string `json:"execution_state"` // busy, idle, starting
}

// ExecuteInput is execute_input's content.
type ExecuteInput struct {
	Code           string `json:"code"`
	ExecutionCount int    `json:"execution_count"`
}

// ClearOutput is clear_output's content.
type ClearOutput struct {
	Wait bool `json:"wait"`
}

// CompleteReply is complete_reply's content.
type CompleteReply struct {
	Status      string         `json:"status"`
	Matches     []string       `json:"matches"`
	CursorStart int            `json:"cursor_start"`
	CursorEnd   int            `json:"cursor_end"`
	Metadata    map[string]any `json:"metadata"`
}

// InspectReply is inspect_reply's content.
type InspectReply struct {
	Status   string         `json:"status"`
	Found    bool           `json:"found"`
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// IsCompleteReply is is_complete_reply's content.
type IsCompleteReply struct {
	Status string `json:"status"` // complete, incomplete, invalid, unknown
	Indent string `json:"indent,omitempty"`
}

// HistoryReply is history_reply's content: entries are
// [session, line, input] or [session, line, [input, output]].
type HistoryReply struct {
	Status  string  `json:"status"`
	History [][]any `json:"history"`
}

// InputRequest is input_request's content.
type InputRequest struct {
	Prompt   string `json:"prompt"`
	Password bool   `json:"password"`
}

// KernelInfoReply is kernel_info_reply's content.
type KernelInfoReply struct {
	Status                string       `json:"status"`
	ProtocolVersion       string       `json:"protocol_version"`
	Implementation        string       `json:"implementation"`
	ImplementationVersion string       `json:"implementation_version"`
	LanguageInfo          LanguageInfo `json:"language_info"`
	Banner                string       `json:"banner"`
	Debugger              bool         `json:"debugger"`
	HelpLinks             []HelpLink   `json:"help_links"`
}

// LanguageInfo describes the kernel's language.
type LanguageInfo struct {
	Name              string `json:"name"`
	Version           string `json:"version"`
	MIMEType          string `json:"mimetype"`
	FileExtension     string `json:"file_extension"`
	PygmentsLexer     string `json:"pygments_lexer"`
	CodeMirrorMode    string `json:"codemirror_mode"`
	NBConvertExporter string `json:"nbconvert_exporter"`
}

// HelpLink is one entry of the front end's help menu.
type HelpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}
