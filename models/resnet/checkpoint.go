package resnet

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/internal/version"
	"github.com/advbench/advbench/nn"
	"gorgonia.org/tensor"
)

// Metadata keys a model checkpoint carries.
const (
	MetaConfig  = "advbench.config"  // JSON of the model configuration
	MetaVersion = "advbench.version" // the advbench version that wrote it
	MetaNorm    = "advbench.norm"    // the norm, for people reading headers
)

// OptimizerPrefix starts the names of optimizer tensors stored beside a
// model (e.g. "optimizer.momentum.conv1.weight").
const OptimizerPrefix = "optimizer."

// savedConfig is Config in a JSON-friendly form.
type savedConfig struct {
	Norm      string  `json:"norm"`
	Width     float64 `json:"width"`
	Classes   int     `json:"classes"`
	Modes     int     `json:"modes"`
	Dtype     string  `json:"dtype"`
	InputNorm string  `json:"input_norm"`
	Seed      uint64  `json:"seed"`
}

// Save writes the model's parameters and buffers, the extra tensors (whose
// names must start with OptimizerPrefix) and metadata (epoch, seed, run
// details; the model's configuration and the advbench version are added)
// to path as safetensors, atomically.
func (m *Model) Save(path string, extra []*nn.Var, meta map[string]string) error {
	c := m.cfg
	cj, err := json.Marshal(savedConfig{c.Norm, c.Width, c.Classes, c.Modes, c.Dtype.String(), c.InputNorm, c.Seed})
	if err != nil {
		return err
	}
	md := map[string]string{MetaConfig: string(cj), MetaVersion: version.Version, MetaNorm: c.Norm}
	for k, v := range meta {
		md[k] = v
	}
	ps, bs := m.State()
	vars := append(ps, bs...)
	for _, v := range extra {
		if !strings.HasPrefix(v.Name, OptimizerPrefix) {
			return fmt.Errorf("resnet: extra tensor %s must be named %s...", v.Name, OptimizerPrefix)
		}
		vars = append(vars, v)
	}
	return checkpoint.Write(path, vars, md)
}

// LoadState copies a checkpoint's parameters and buffers into the model.
// It refuses, naming the first mismatching tensor and both shapes, a
// checkpoint of another architecture, width or norm.
func (m *Model) LoadState(f *checkpoint.File) error {
	ps, bs := m.State()
	return f.Assign(append(ps, bs...), func(name string) bool { return strings.HasPrefix(name, OptimizerPrefix) })
}

// Load reads a checkpoint, rebuilds the model its metadata describes and
// loads its state. The file is returned for the caller's metadata and
// optimizer tensors.
func Load(path string) (*Model, *checkpoint.File, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, nil, err
	}
	cj, ok := f.Meta[MetaConfig]
	if !ok {
		return nil, nil, fmt.Errorf("resnet: %s: no %s metadata: not an advbench checkpoint", path, MetaConfig)
	}
	var sc savedConfig
	if err := json.Unmarshal([]byte(cj), &sc); err != nil {
		return nil, nil, fmt.Errorf("resnet: %s: %s: %w", path, MetaConfig, err)
	}
	dt := tensor.Float32
	if sc.Dtype == tensor.Float64.String() {
		dt = tensor.Float64
	}
	m, err := New(Config{Norm: sc.Norm, Width: sc.Width, Classes: sc.Classes, Modes: sc.Modes, Dtype: dt, InputNorm: sc.InputNorm, Seed: sc.Seed})
	if err != nil {
		return nil, nil, fmt.Errorf("resnet: %s: %w", path, err)
	}
	if err := m.LoadState(f); err != nil {
		return nil, nil, err
	}
	return m, f, nil
}
