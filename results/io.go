package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/advbench/advbench/internal/atomicfile"
)

// WriteJSON stores v as indented JSON at path, atomically.
func WriteJSON(path string, v any) error {
	if err := atomicfile.WriteJSON(path, v); err != nil {
		return fmt.Errorf("results: %s: %w", path, err)
	}
	return nil
}

// ReadSweep loads an accuracy-against-eps file.
func ReadSweep(path string) (*Sweep, error) {
	var s Sweep
	if err := readStrict(path, &s, "sweep"); err != nil {
		return nil, err
	}
	if s.Schema != SweepSchema {
		return nil, fmt.Errorf("results: %s: schema %q, want %q", path, s.Schema, SweepSchema)
	}
	return &s, nil
}

// readStrict decodes a JSON file refusing unknown fields.
func readStrict(path string, v any, what string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("results: %s: not a %s file: %v", path, what, err)
	}
	return nil
}
