package cifar

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/advbench/advbench/internal/safepickle"
	"github.com/nlpodyssey/gopickle/types"
)

// A batch of the python release (cifar-10-python.tar.gz, the files
// torchvision reads) is a pickled dict: b"data" a C-ordered uint8 numpy
// array of shape (n, 3072), each row one image's 1024 red, 1024 green and
// 1024 blue bytes, as in the binary release; b"labels" a list of n ints in
// 0..9; b"batch_label" and b"filenames", which are not read. The release was
// pickled by Python 2 (protocol 2: keys and the array's bytes are str);
// Python 3 pickles (protocols 2 to 5; the array's bytes are bytes, or with
// protocol 5 a bytearray given to numpy's _frombuffer; under protocol 2
// bytes are _codecs.encode(str, "latin1")) hold the same.

// pickleMagic is the first byte of a pickle of protocol 2 or later (PROTO).
const pickleMagic = 0x80

// numpyGlobals are the only globals a CIFAR-10 pickle may name: numpy's
// array reconstruction (numpy 1 and numpy 2 spellings) and the latin-1
// encoding Python 3 writes bytes with under protocol 2. Anything else
// (os.system, say) is refused before it is looked at.
var numpyGlobals = map[string]any{
	"_codecs.encode":                      latin1{},
	"numpy.core.multiarray._reconstruct":  reconstruct{},
	"numpy._core.multiarray._reconstruct": reconstruct{},
	"numpy.core.numeric._frombuffer":      frombuffer{},
	"numpy._core.numeric._frombuffer":     frombuffer{},
	"numpy.ndarray":                       ndarrayClass{},
	"numpy.dtype":                         dtypeClass{},
}

func resolveNumpy(module, name string) (any, bool) {
	v, ok := numpyGlobals[module+"."+name]
	return v, ok
}

// latin1 is _codecs.encode(s, "latin1"): the bytes whose values are s's
// code points, each below 256.
type latin1 struct{}

// Call returns the bytes.
func (latin1) Call(args ...any) (any, error) {
	if len(args) != 2 || (args[1] != "latin1" && args[1] != "latin-1") {
		return nil, errors.New(`_codecs.encode: want (str, "latin1")`)
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("_codecs.encode of a %s, not a str", typeName(args[0]))
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("_codecs.encode: code point %U is not latin-1", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// ndarrayClass stands for numpy.ndarray, the first argument of _reconstruct.
type ndarrayClass struct{}

// reconstruct is numpy.core.multiarray._reconstruct(ndarray, (0,), b"b"):
// an empty array, filled by BUILD with ndarray.__setstate__'s state.
type reconstruct struct{}

// Call returns an empty array.
func (reconstruct) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("numpy _reconstruct takes 3 arguments, got %d", len(args))
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("numpy _reconstruct of a %s, not a numpy.ndarray", typeName(args[0]))
	}
	return &ndarray{}, nil
}

// frombuffer is numpy.core.numeric._frombuffer(buffer, dtype, shape, order),
// numpy's reduction under pickle protocol 5.
type frombuffer struct{}

// Call builds the array from its arguments.
func (frombuffer) Call(args ...any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("numpy _frombuffer takes 4 arguments, got %d", len(args))
	}
	a := &ndarray{}
	if err := a.set(args[2], args[1], args[3] == "F", args[0]); err != nil {
		return nil, err
	}
	return a, nil
}

// ndarray is a numpy array as pickled: its shape, dtype, order and raw bytes.
type ndarray struct {
	shape   []int
	dtype   *dtype
	fortran bool
	raw     []byte
	filled  bool
}

// PySetState takes ndarray.__setstate__'s state: (version, shape, dtype,
// is_fortran, rawdata), or the same without version.
func (a *ndarray) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || (t.Len() != 4 && t.Len() != 5) {
		return fmt.Errorf("numpy array state is a %s, not a tuple of 4 or 5", typeName(state))
	}
	s := *t
	if len(s) == 5 {
		s = s[1:]
	}
	fortran, ok := s[2].(bool)
	if !ok {
		return fmt.Errorf("numpy array state: is_fortran is a %s, not a bool", typeName(s[2]))
	}
	return a.set(s[0], s[1], fortran, s[3])
}

func (a *ndarray) set(shape, dt any, fortran bool, raw any) error {
	if a.filled {
		return errors.New("numpy array state set twice")
	}
	st, ok := shape.(*types.Tuple)
	if !ok {
		return fmt.Errorf("numpy array shape is a %s, not a tuple", typeName(shape))
	}
	for _, d := range *st {
		n, ok := d.(int)
		if !ok || n < 0 {
			return fmt.Errorf("numpy array shape %v: not a tuple of non-negative ints", *st)
		}
		a.shape = append(a.shape, n)
	}
	if a.dtype, ok = dt.(*dtype); !ok {
		return fmt.Errorf("numpy array dtype is a %s, not a numpy.dtype", typeName(dt))
	}
	a.fortran = fortran
	switch r := raw.(type) {
	case []byte:
		a.raw = r
	case string: // Python 2's str
		a.raw = []byte(r)
	case *types.ByteArray: // protocol 5
		a.raw = []byte(*r)
	default:
		return fmt.Errorf("numpy array data is a %s, not bytes", typeName(raw))
	}
	a.filled = true
	return nil
}

// dtypeClass stands for numpy.dtype; called as numpy.dtype("u1", False, True).
type dtypeClass struct{}

// dtype is a numpy dtype: its type string ("u1") and byte order ("|").
type dtype struct {
	str   string
	order string
}

// Call returns the dtype its first argument names.
func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("numpy.dtype without arguments")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("numpy.dtype of a %s, not a type string", typeName(args[0]))
	}
	return &dtype{str: s}, nil
}

// PySetState takes dtype.__setstate__'s state, whose second item is the
// byte order.
func (d *dtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || t.Len() < 2 {
		return fmt.Errorf("numpy dtype state is a %s, not a tuple", typeName(state))
	}
	if d.order, ok = t.Get(1).(string); !ok {
		return fmt.Errorf("numpy dtype state: byte order is a %s, not a string", typeName(t.Get(1)))
	}
	return nil
}

// ParsePickle decodes one batch of the python release. name is used in
// error messages only. The checks are those of Parse: a whole number of
// 3072-byte images, as many labels, every label in 0..9; besides, the
// pickle may name no global but numpy's array reconstruction, and every
// value in its dict must be plain data.
func ParsePickle(name string, raw []byte) (*Dataset, error) {
	obj, err := safepickle.Load(raw, resolveNumpy, nil)
	if errors.Is(err, safepickle.ErrGlobal) {
		return nil, fmt.Errorf("cifar: %s: %w (a CIFAR-10 pickle holds one numpy uint8 array and lists; it may name numpy's array reconstruction only)", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", name, err)
	}
	dict, ok := obj.(*types.Dict)
	if !ok {
		return nil, fmt.Errorf("cifar: %s: the pickle holds a %s, not a dict with data and labels", name, typeName(obj))
	}
	var data, labels any
	for _, e := range *dict {
		key, ok := keyString(e.Key)
		if !ok {
			return nil, fmt.Errorf("cifar: %s: a dict key is a %s, not a string", name, typeName(e.Key))
		}
		switch key {
		case "data", "labels":
			if (key == "data" && data != nil) || (key == "labels" && labels != nil) {
				return nil, fmt.Errorf("cifar: %s: key %q appears twice", name, key)
			}
			if key == "data" {
				data = e.Value
			} else {
				labels = e.Value
			}
		default:
			if err := plain(e.Value, 0, map[any]bool{}); err != nil {
				return nil, fmt.Errorf("cifar: %s: key %q: %v", name, key, err)
			}
		}
	}
	if data == nil || labels == nil {
		return nil, fmt.Errorf("cifar: %s: the dict has no %s", name, missingKeys(data, labels))
	}
	arr, ok := data.(*ndarray)
	if !ok || !arr.filled {
		return nil, fmt.Errorf("cifar: %s: data is a %s, not a numpy array", name, typeName(data))
	}
	if arr.dtype.str != "u1" {
		return nil, fmt.Errorf("cifar: %s: data has dtype %s%s, want u1 (uint8)", name, arr.dtype.order, arr.dtype.str)
	}
	if len(arr.shape) != 2 || arr.shape[1] != ImageBytes {
		return nil, fmt.Errorf("cifar: %s: data has shape %v, want (n, %d)", name, arr.shape, ImageBytes)
	}
	if arr.fortran && arr.shape[0] > 1 {
		return nil, fmt.Errorf("cifar: %s: data is in Fortran (column-major) order, want C order", name)
	}
	n := arr.shape[0]
	if n == 0 {
		return nil, fmt.Errorf("cifar: %s: data holds no images", name)
	}
	if have := len(arr.raw) / ImageBytes; have < n {
		return nil, fmt.Errorf("cifar: %s: record %d: truncated, %d of %d bytes (the array of shape (%d, %d) holds %d bytes)",
			name, have, len(arr.raw)%ImageBytes, ImageBytes, n, ImageBytes, len(arr.raw))
	}
	if len(arr.raw) != n*ImageBytes {
		return nil, fmt.Errorf("cifar: %s: the array of shape (%d, %d) holds %d bytes, more than its %d", name, n, ImageBytes, len(arr.raw), n*ImageBytes)
	}
	var ls []any
	switch l := labels.(type) {
	case *types.List:
		ls = *l
	case *types.Tuple:
		ls = *l
	default:
		return nil, fmt.Errorf("cifar: %s: labels is a %s, not a list", name, typeName(labels))
	}
	if len(ls) != n {
		return nil, fmt.Errorf("cifar: %s: %d labels for %d images", name, len(ls), n)
	}
	d := &Dataset{Images: arr.raw, Labels: make([]uint8, n)}
	for i, v := range ls {
		l, ok := v.(int)
		if !ok {
			return nil, fmt.Errorf("cifar: %s: record %d: label is a %s, not an int", name, i, typeName(v))
		}
		if l < 0 || l >= NumClasses {
			return nil, fmt.Errorf("cifar: %s: record %d: label %d out of range 0..%d", name, i, l, NumClasses-1)
		}
		d.Labels[i] = uint8(l)
	}
	return d, nil
}

// keyString returns a dict key as a string: str (Python 2's str, Python 3's
// str) or bytes (Python 3's view of Python 2's str).
func keyString(k any) (string, bool) {
	switch s := k.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

func missingKeys(data, labels any) string {
	switch {
	case data == nil && labels == nil:
		return "data and labels"
	case data == nil:
		return "data"
	}
	return "labels"
}

// maxPlainDepth bounds the nesting plain follows.
const maxPlainDepth = 8

// plain checks that v is plain data: None, bools, numbers, strings, bytes,
// numpy arrays and lists, tuples and dicts of them. A container is looked
// into once however often it is referred to (a pickle can make a list
// that holds itself many times over).
func plain(v any, depth int, seen map[any]bool) error {
	if depth > maxPlainDepth {
		return fmt.Errorf("nested more than %d deep", maxPlainDepth)
	}
	switch v.(type) {
	case nil, bool, int, float64, *big.Int, string, []byte, *types.ByteArray, *ndarray:
		return nil
	case *types.List, *types.Tuple, *types.Dict:
		if seen[v] {
			return nil
		}
		seen[v] = true
	default:
		return fmt.Errorf("holds a %s, not plain data", typeName(v))
	}
	var items []any
	switch x := v.(type) {
	case *types.List:
		items = *x
	case *types.Tuple:
		items = *x
	case *types.Dict:
		for _, e := range *x {
			items = append(items, e.Key, e.Value)
		}
	}
	for _, it := range items {
		if err := plain(it, depth+1, seen); err != nil {
			return err
		}
	}
	return nil
}

// typeName names a decoded value's Python type for error messages.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case *types.ByteArray:
		return "bytearray"
	case *types.List:
		return "list"
	case *types.Tuple:
		return "tuple"
	case *types.Dict:
		return "dict"
	case *types.OrderedDict:
		return "collections.OrderedDict"
	case *types.GenericObject:
		return x.Class.Module + "." + x.Class.Name + " object"
	case *ndarray:
		return "numpy.ndarray"
	case *dtype:
		return "numpy.dtype"
	}
	return fmt.Sprintf("%T", v)
}
