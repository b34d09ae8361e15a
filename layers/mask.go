package layers

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaskKind is how a personal value is masked (GB/T 35273 de-identification:
// enough is left to tell records apart, not to identify the person).
type MaskKind string

// Kinds of personal values.
const (
	// MaskAll hides the whole value: "***".
	MaskAll MaskKind = ""
	// MaskName keeps a name's first character: 王建伟 → 王**, 王伟 → 王*.
	MaskName MaskKind = "name"
	// MaskPhone keeps a phone number's first three and last four digits:
	// 13812345678 → 138****5678.
	MaskPhone MaskKind = "phone"
)

// Masked is what a value becomes when nothing of it may be shown.
const Masked = "***"

// checkMask checks that a field's mask fits it.
func checkMask(f Field) error {
	switch f.Mask {
	case MaskAll:
		return nil
	case MaskName, MaskPhone:
	default:
		return fmt.Errorf("field %q: unknown mask %q", f.Name, f.Mask)
	}
	if !f.Personal {
		return fmt.Errorf("field %q: mask %q on a field that is not personal", f.Name, f.Mask)
	}
	if f.Type != String {
		return fmt.Errorf("field %q: mask %q on a %s field", f.Name, f.Mask, f.Type)
	}
	return nil
}

// MaskPersonal masks a personal value of the given kind. An empty value
// (after trimming spaces) stays empty; a value the kind does not fit, such
// as a name that does not start with a letter or a phone number with fewer
// than eight digits, becomes Masked. The result is valid UTF-8 for any input.
func MaskPersonal(kind MaskKind, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	switch kind {
	case MaskName:
		return maskName(v)
	case MaskPhone:
		return maskPhone(v)
	}
	return Masked
}

// maskName keeps the first character and hides the rest: one star for a
// two-character name, two for any longer one, so the length stays hidden.
func maskName(v string) string {
	r, _ := utf8.DecodeRuneInString(v)
	if r == utf8.RuneError || !unicode.IsLetter(r) {
		return Masked
	}
	switch utf8.RuneCountInString(v) {
	case 1:
		return "*"
	case 2:
		return string(r) + "*"
	}
	return string(r) + "**"
}

// maskPhone keeps the first three and the last four digits of a number of
// eleven digits or more (a mobile number, or a landline with its area
// code), only the last four of a shorter one of eight to ten digits, and
// nothing of a shorter one. Everything but the kept digits is dropped, so
// no separator or note in the value shows through. A leading +86 or 0086
// country code is not counted.
func maskPhone(v string) string {
	if rest, ok := strings.CutPrefix(v, "+86"); ok {
		v = rest
	} else if rest, ok := strings.CutPrefix(v, "0086"); ok {
		v = rest
	}
	d := make([]byte, 0, 16)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	n := len(d)
	switch {
	case n >= 11:
		return string(d[:3]) + "****" + string(d[n-4:])
	case n >= 8:
		return "****" + string(d[n-4:])
	}
	return Masked
}

// MaskValue masks one value of a Personal field: strings by the field's
// Mask, numbers (a phone number stored as a number) as their decimal
// digits, nil stays nil and anything else becomes Masked.
func MaskValue(f Field, v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return MaskPersonal(f.Mask, v)
	case float64:
		return MaskPersonal(f.Mask, strconv.FormatFloat(v, 'f', -1, 64))
	case int:
		return MaskPersonal(f.Mask, strconv.Itoa(v))
	case int64:
		return MaskPersonal(f.Mask, strconv.FormatInt(v, 10))
	}
	return Masked
}

// MaskProps returns a copy of a feature's attributes with the layer's
// Personal fields masked; props itself is not changed. The copy is a new
// map even when the layer has nothing to mask; nil gives nil.
func MaskProps(l *Layer, props map[string]any) map[string]any {
	out := maps.Clone(props)
	for _, f := range l.Fields {
		if !f.Personal {
			continue
		}
		if v, ok := out[f.Name]; ok {
			out[f.Name] = MaskValue(f, v)
		}
	}
	return out
}

// DropPersonal returns a copy of a feature's attributes without the
// layer's Personal fields, for readers who may not see them even masked
// (vector tiles); props itself is not changed. nil gives nil.
func DropPersonal(l *Layer, props map[string]any) map[string]any {
	out := maps.Clone(props)
	for _, f := range l.Fields {
		if f.Personal {
			delete(out, f.Name)
		}
	}
	return out
}
