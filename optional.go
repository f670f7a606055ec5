package wardline

import "encoding/json"

// Optional is a field of a partial update (PATCH): Set tells "absent" (leave it) from "present",
// and for a pointer type a present null (clear it) from a value.
type Optional[T any] struct {
	Set   bool
	Value T
}

// UnmarshalJSON runs only when the field is present, null included.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	return json.Unmarshal(b, &o.Value)
}

// Some returns a set Optional holding v.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }
