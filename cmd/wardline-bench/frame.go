package main

import (
	"encoding/json"
	"strconv"
	"strings"
)

// frameInfo is what the benchmark needs from one event frame.
type frameInfo struct {
	typ                   string
	conv                  string
	seq                   int64
	run                   string
	msgno, intended, sent int64
	receipts              int64  // in a batched "receipts" frame
	clientID              string // send.result, send.error: the send answered
	status                int    // send.result: 201 stored now, 200 already; send.error: 0
	code                  string // send.error: the error code
}

// benchBody is the text of a benchmark message: the run, the message number and the intended and
// actual send times (Unix ns), padded to the requested size.
func benchBody(run string, msgno, intended, sent int64, size int) string {
	s := "bench " + run + " " + strconv.FormatInt(msgno, 10) + " " + strconv.FormatInt(intended, 10) + " " + strconv.FormatInt(sent, 10) + " "
	if pad := size - len(s); pad > 0 {
		s += strings.Repeat("x", pad)
	}
	return s
}

// parseBody reads a benchBody; msgno is -1 when body is not one.
func parseBody(body string) (run string, msgno, intended, sent int64) {
	f := strings.SplitN(body, " ", 6)
	if len(f) < 5 || f[0] != "bench" {
		return "", -1, 0, 0
	}
	var err1, err2, err3 error
	msgno, err1 = strconv.ParseInt(f[2], 10, 64)
	intended, err2 = strconv.ParseInt(f[3], 10, 64)
	sent, err3 = strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", -1, 0, 0
	}
	return f[1], msgno, intended, sent
}

// parseFrame reads a frame's type and, for message.created, the conversation, seq and the bench
// fields of the body. It scans the server's field order first, because encoding/json on tens of
// thousands of frames a second would take CPU from the server on a shared machine, and falls
// back to encoding/json for any frame the scan does not recognise.
func parseFrame(data []byte) frameInfo {
	s := string(data)
	const pre = `{"type":"`
	if strings.HasPrefix(s, pre) {
		rest := s[len(pre):]
		if i := strings.IndexByte(rest, '"'); i >= 0 {
			typ := rest[:i]
			if typ == "receipts" {
				return frameInfo{typ: typ, msgno: -1, receipts: int64(strings.Count(rest, `"kind":`))}
			}
			if typ == "send.result" || typ == "send.error" {
				return scanSendAnswer(typ, rest[i:])
			}
			if typ != "message.created" {
				return frameInfo{typ: typ, msgno: -1}
			}
			if f, ok := scanMessage(rest[i:]); ok {
				return f
			}
		}
	}
	var v struct {
		Type    string `json:"type"`
		Message struct {
			ConversationID string `json:"conversation_id"`
			Seq            int64  `json:"seq"`
			Body           string `json:"body"`
		} `json:"message"`
	}
	if json.Unmarshal(data, &v) != nil {
		return frameInfo{typ: "unparseable", msgno: -1}
	}
	f := frameInfo{typ: v.Type, conv: v.Message.ConversationID, seq: v.Message.Seq}
	f.run, f.msgno, f.intended, f.sent = parseBody(v.Message.Body)
	return f
}

// scanMessage finds conversation_id, seq and body in the rest of a message.created frame.
func scanMessage(s string) (frameInfo, bool) {
	f := frameInfo{typ: "message.created", msgno: -1}
	conv, ok := after(s, `"conversation_id":"`)
	if !ok || len(conv) < 37 || conv[36] != '"' {
		return f, false
	}
	f.conv = conv[:36]
	seq, ok := after(s, `"seq":`)
	if !ok {
		return f, false
	}
	n := 0
	for n < len(seq) && seq[n] >= '0' && seq[n] <= '9' {
		n++
	}
	var err error
	if f.seq, err = strconv.ParseInt(seq[:n], 10, 64); err != nil {
		return f, false
	}
	body, ok := after(s, `"body":"`)
	if !ok {
		return f, false
	}
	end := strings.IndexByte(body, '"')
	if end < 0 || strings.IndexByte(body[:end], '\\') >= 0 {
		return f, false // escapes: let encoding/json decode it
	}
	f.run, f.msgno, f.intended, f.sent = parseBody(body[:end])
	return f, true
}

// scanSendAnswer reads the client_id and the outcome of an answer to a send on the stream; the
// server writes client_id, then created (or code), before the message.
func scanSendAnswer(typ, s string) frameInfo {
	f := frameInfo{typ: typ, msgno: -1}
	if id, ok := after(s, `"client_id":"`); ok && len(id) >= 36 {
		f.clientID = id[:36]
	}
	if typ == "send.result" {
		f.status = 200
		if v, ok := after(s, `"created":`); ok && strings.HasPrefix(v, "true") {
			f.status = 201
		}
		return f
	}
	if code, ok := after(s, `"code":"`); ok {
		if end := strings.IndexByte(code, '"'); end >= 0 {
			f.code = code[:end]
		}
	}
	return f
}

func after(s, key string) (string, bool) {
	i := strings.Index(s, key)
	if i < 0 {
		return "", false
	}
	return s[i+len(key):], true
}
