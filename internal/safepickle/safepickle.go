// Package safepickle unpickles untrusted Python pickles (github.com/nlpodyssey/gopickle)
// so that they can neither run code nor make the reader allocate more than
// their own bytes justify.
//
// gopickle never runs Python: a global becomes whatever the caller's
// resolver returns for it, and Load's resolver refuses every global it is not
// given (gopickle itself resolves only collections.OrderedDict,
// __builtin__.object and copy_reg._reconstructor, to inert Go values). But
// gopickle allocates a length read from the stream before reading the bytes
// (a 9-byte BINBYTES8 can ask for 2^62 bytes), and an opcode such as MARK
// costs far more memory than its one byte. Check walks the opcodes first
// (pickletools' table, Python's Lib/pickletools.py) and refuses any length
// beyond the bytes that follow it, unknown opcodes, bytes after STOP and more
// opcodes than MaxOps; only then does Load hand the bytes to gopickle, whose
// panics on malformed input it returns as errors.
package safepickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/nlpodyssey/gopickle/pickle"
)

// Bounds on what a pickle may hold. Each opcode makes gopickle allocate at
// most a few hundred bytes beyond its own argument, MARK the most (a new
// 16-slot stack), so MaxOps opcodes cost at most about 128 MiB and MaxMarks
// marks 4 MiB. A CIFAR-10 batch of 10,000 images is about 40,000 opcodes and
// 30 marks; a ResNet-18 state dict a few thousand opcodes.
const (
	MaxOps   = 1 << 19
	MaxMarks = 1 << 14
)

// Resolver returns the Go value a pickle's global module.name stands for,
// and false for a global the caller does not allow.
type Resolver func(module, name string) (any, bool)

// ErrGlobal is wrapped by the error Load returns for a global its resolver
// refuses; the message names the global.
var ErrGlobal = errors.New("global not allowed")

// argument kinds of the opcodes, after pickletools.
const (
	argNone    = iota
	argFixed   // n bytes
	argLine    // one newline-terminated line
	argLines2  // two lines (GLOBAL, INST)
	argCounted // an n-byte little-endian length, then that many bytes
	argFrame   // an 8-byte frame length, the frame following
)

type opInfo struct {
	name string
	kind int
	n    int
}

var ops = map[byte]opInfo{
	'(': {"MARK", argNone, 0}, '.': {"STOP", argNone, 0}, '0': {"POP", argNone, 0}, '1': {"POP_MARK", argNone, 0},
	'2': {"DUP", argNone, 0}, 'N': {"NONE", argNone, 0}, 'Q': {"BINPERSID", argNone, 0}, 'R': {"REDUCE", argNone, 0},
	'a': {"APPEND", argNone, 0}, 'b': {"BUILD", argNone, 0}, 'd': {"DICT", argNone, 0}, '}': {"EMPTY_DICT", argNone, 0},
	'e': {"APPENDS", argNone, 0}, 'l': {"LIST", argNone, 0}, ']': {"EMPTY_LIST", argNone, 0}, 'o': {"OBJ", argNone, 0},
	's': {"SETITEM", argNone, 0}, 't': {"TUPLE", argNone, 0}, ')': {"EMPTY_TUPLE", argNone, 0}, 'u': {"SETITEMS", argNone, 0},
	0x81: {"NEWOBJ", argNone, 0}, 0x85: {"TUPLE1", argNone, 0}, 0x86: {"TUPLE2", argNone, 0}, 0x87: {"TUPLE3", argNone, 0},
	0x88: {"NEWTRUE", argNone, 0}, 0x89: {"NEWFALSE", argNone, 0}, 0x8f: {"EMPTY_SET", argNone, 0}, 0x90: {"ADDITEMS", argNone, 0},
	0x91: {"FROZENSET", argNone, 0}, 0x92: {"NEWOBJ_EX", argNone, 0}, 0x93: {"STACK_GLOBAL", argNone, 0}, 0x94: {"MEMOIZE", argNone, 0},
	0x97: {"NEXT_BUFFER", argNone, 0}, 0x98: {"READONLY_BUFFER", argNone, 0},

	0x80: {"PROTO", argFixed, 1}, 'K': {"BININT1", argFixed, 1}, 'M': {"BININT2", argFixed, 2}, 'J': {"BININT", argFixed, 4},
	'G': {"BINFLOAT", argFixed, 8}, 'h': {"BINGET", argFixed, 1}, 'j': {"LONG_BINGET", argFixed, 4}, 'q': {"BINPUT", argFixed, 1},
	'r': {"LONG_BINPUT", argFixed, 4}, 0x82: {"EXT1", argFixed, 1}, 0x83: {"EXT2", argFixed, 2}, 0x84: {"EXT4", argFixed, 4},

	'I': {"INT", argLine, 0}, 'L': {"LONG", argLine, 0}, 'F': {"FLOAT", argLine, 0}, 'S': {"STRING", argLine, 0},
	'V': {"UNICODE", argLine, 0}, 'P': {"PERSID", argLine, 0}, 'g': {"GET", argLine, 0}, 'p': {"PUT", argLine, 0},
	'c': {"GLOBAL", argLines2, 0}, 'i': {"INST", argLines2, 0},

	'T': {"BINSTRING", argCounted, 4}, 'U': {"SHORT_BINSTRING", argCounted, 1}, 'X': {"BINUNICODE", argCounted, 4},
	0x8d: {"BINUNICODE8", argCounted, 8}, 'B': {"BINBYTES", argCounted, 4}, 'C': {"SHORT_BINBYTES", argCounted, 1},
	0x8c: {"SHORT_BINUNICODE", argCounted, 1}, 0x8e: {"BINBYTES8", argCounted, 8}, 0x96: {"BYTEARRAY8", argCounted, 8},
	0x8a: {"LONG1", argCounted, 1}, 0x8b: {"LONG4", argCounted, 4},

	0x95: {"FRAME", argFrame, 8},
}

// Check walks the opcodes of raw without building anything. It refuses an
// unknown opcode, a length or frame longer than the bytes after it, a
// missing STOP or bytes after it, and more than MaxOps opcodes or MaxMarks
// marks. Errors name the byte offset of the opcode.
func Check(raw []byte) error {
	nOps, nMarks := 0, 0
	for at := 0; at < len(raw); {
		code := raw[at]
		op, ok := ops[code]
		if !ok {
			return fmt.Errorf("safepickle: offset %d: unknown opcode 0x%02x (not a pickle, or a damaged one)", at, code)
		}
		if nOps++; nOps > MaxOps {
			return fmt.Errorf("safepickle: offset %d: more than %d opcodes", at, MaxOps)
		}
		if code == '(' {
			if nMarks++; nMarks > MaxMarks {
				return fmt.Errorf("safepickle: offset %d: more than %d marks", at, MaxMarks)
			}
		}
		next := at + 1
		left := func() int { return len(raw) - next }
		short := func(what string, want uint64) error {
			return fmt.Errorf("safepickle: offset %d: %s claims %d bytes, %d follow (truncated or damaged)", at, what, want, left())
		}
		switch op.kind {
		case argFixed:
			if left() < op.n {
				return short(op.name, uint64(op.n))
			}
			next += op.n
		case argLine, argLines2:
			lines := 1
			if op.kind == argLines2 {
				lines = 2
			}
			for range lines {
				nl := bytes.IndexByte(raw[next:], '\n')
				if nl < 0 {
					return fmt.Errorf("safepickle: offset %d: %s: line without an end", at, op.name)
				}
				next += nl + 1
			}
		case argCounted, argFrame:
			if left() < op.n {
				return short(op.name, uint64(op.n))
			}
			var n uint64
			switch op.n {
			case 1:
				n = uint64(raw[next])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(raw[next:]))
				if (code == 'T' || code == 0x8b) && n >= 1<<31 {
					return fmt.Errorf("safepickle: offset %d: %s has a negative length", at, op.name)
				}
			case 8:
				n = binary.LittleEndian.Uint64(raw[next:])
			}
			next += op.n
			if n > uint64(left()) {
				return short(op.name, n)
			}
			if op.kind == argCounted {
				next += int(n) // a frame's bytes are opcodes: walk them
			}
		}
		if code == '.' {
			if next != len(raw) {
				return fmt.Errorf("safepickle: offset %d: %d bytes after STOP", at, len(raw)-next)
			}
			return nil
		}
		at = next
	}
	return fmt.Errorf("safepickle: ends after %d bytes without STOP (truncated)", len(raw))
}

// Load checks raw (Check) and unpickles it. Globals are resolved by resolve
// (nil refuses every one), persistent ids by persistent (nil refuses them).
// A global resolve refuses, and a panic inside gopickle, come back as errors
// prefixed "safepickle:"; an error of persistent comes back as it is.
func Load(raw []byte, resolve Resolver, persistent func(id any) (any, error)) (obj any, err error) {
	if err := Check(raw); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("safepickle: malformed pickle: %v", r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(raw))
	u.FindClass = func(module, name string) (any, error) {
		if resolve != nil {
			if v, ok := resolve(module, name); ok {
				return v, nil
			}
		}
		return nil, fmt.Errorf("safepickle: %w: %s.%s", ErrGlobal, module, name)
	}
	if persistent != nil {
		u.PersistentLoad = func(id any) (any, error) {
			v, err := persistent(id)
			if err != nil {
				return nil, callerError{err}
			}
			return v, nil
		}
	}
	obj, err = u.Load()
	var ce callerError
	if errors.As(err, &ce) {
		return nil, ce.err
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("safepickle: truncated pickle: %w", err)
		}
		if errors.Is(err, ErrGlobal) {
			return nil, err
		}
		return nil, fmt.Errorf("safepickle: %w", err)
	}
	return obj, nil
}

// callerError carries an error of the caller's persistent function through
// gopickle.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
