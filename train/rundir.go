package train

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/internal/runlock"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/rundir"
)

// Metadata keys of a training checkpoint (besides the model's own).
const (
	MetaTrainConfig = "advbench.train.config" // the run's Config as JSON
	MetaTrainState  = "advbench.train.state"  // the run's State as JSON
	MetaDataSHA256  = "advbench.train.data_sha256"
	MetaEpoch       = "epoch" // epochs completed, as the reference's "epoch"
)

// Record is config.json: what a run computes, and on which data.
type Record struct {
	Version string   `json:"advbench_version"`
	Config  Config   `json:"config"`
	Data    DataInfo `json:"data"`
}

// State is a run's position, which with the weights, running statistics and
// momentum buffers is everything a resumed run needs: every random draw is
// seeded by the position.
type State struct {
	// Epoch is the epoch in progress (0-based); Config.Epochs when done.
	Epoch int `json:"epoch"`
	// Step counts the training steps of that epoch done. It equals the
	// steps per epoch while the epoch's evaluation is still to be done.
	Step int `json:"step"`
	// LogLines is the number of log.jsonl lines this state has written.
	LogLines int `json:"log_lines"`
	// LandscapeLines is the number of landscape.jsonl lines it has written.
	LandscapeLines int `json:"landscape_lines,omitempty"`
	// BestRA is the best validation robust accuracy of the trained branch
	// so far, reached after epoch BestEpoch (-1: no epoch finished yet).
	BestRA    float64 `json:"best_val_ra"`
	BestEpoch int     `json:"best_epoch"`
	// Sums accumulate the epoch in progress.
	Sums EpochSums `json:"epoch_sums"`
}

// EpochSums are the running sums of an epoch's training steps.
type EpochSums struct {
	Examples     int     `json:"examples"`
	Loss         float64 `json:"loss"`       // Σ batch loss × batch size
	CleanLoss    float64 `json:"clean_loss"` // likewise, the clean pass
	AdvLoss      float64 `json:"adv_loss"`   // likewise, the adversarial pass
	CleanCorrect int     `json:"clean_correct"`
	AdvCorrect   int     `json:"adv_correct"`
	LR           float64 `json:"lr"`      // the last step's learning rate
	Seconds      float64 `json:"seconds"` // wall time of the steps (not part of a run's identity)
}

// ErrNoRecord is wrapped by ReadRecord when a directory has no
// rundir.ConfigFile.
var ErrNoRecord = errors.New("not a run directory")

// neverStarted reports whether dir holds an empty checkpoints directory
// and at most lock or temporary files besides: what Start leaves when
// stopped before it wrote config.json.
func neverStarted(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	if len(entries) == 0 {
		return false // an empty directory is no run's: Start leaves checkpoints/ at least
	}
	for _, e := range entries {
		switch {
		case e.Name() == runlock.FileName, strings.HasPrefix(e.Name(), "."+rundir.ConfigFile+".tmp-"):
		case e.Name() == rundir.CheckpointDir && e.IsDir():
			if sub, err := os.ReadDir(rundir.Dir(dir).Checkpoints()); err != nil || len(sub) > 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// removeTemporaries deletes the temporary files a killed checkpoint or
// config write left behind (atomicfile's ".NAME.tmp-*"); the caller holds
// the run's lock, so no write of ours is in progress.
func (d runDir) removeTemporaries() error {
	for _, dir := range []string{string(d.Dir), d.Checkpoints()} {
		tmps, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		for _, t := range tmps {
			if err := os.Remove(t); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("train: %w", err)
			}
		}
	}
	return nil
}

// progress describes what a run directory holds besides config.json (log
// lines, checkpoints), or "" when it holds nothing of a run's progress.
func (d runDir) progress() string {
	var found []string
	if b, err := os.ReadFile(d.Log()); err == nil && bytes.Count(b, []byte("\n")) > 0 {
		found = append(found, fmt.Sprintf("%s has %d lines", rundir.LogFile, bytes.Count(b, []byte("\n"))))
	}
	if cks, _ := filepath.Glob(d.Checkpoint("*.safetensors")); len(cks) > 0 {
		names := make([]string, len(cks))
		for i, c := range cks {
			names[i] = filepath.Base(c)
		}
		found = append(found, "checkpoints "+strings.Join(names, ", "))
	}
	return strings.Join(found, "; ")
}

// runDir is a run directory that this package writes.
type runDir struct{ rundir.Dir }

func (d runDir) writeRecord(r Record) error {
	return atomicfile.WriteJSON(d.Config(), r)
}

// ReadRecord reads a run directory's config.json.
func ReadRecord(dir string) (Record, error) {
	var r Record
	path := rundir.Dir(dir).Config()
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return r, fmt.Errorf("train: %s: no %s: %w", dir, rundir.ConfigFile, ErrNoRecord)
		}
		return r, fmt.Errorf("train: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("train: %s: %v", path, err)
	}
	if err := r.Config.Validate(); err != nil {
		field := "config"
		var ce *ConfigError
		if errors.As(err, &ce) {
			field += "." + ce.Field
		}
		return r, fmt.Errorf("train: %s: %s: %s", path, field, strings.TrimPrefix(err.Error(), "train: "))
	}
	if r.Data.SHA256 == "" {
		return r, fmt.Errorf("train: %s: data.sha256 is missing: a run records the hash of its data", path)
	}
	return r, nil
}

func (d runDir) writeSeen(data *Data) error {
	fp := data.Seen()
	b := make([]byte, 8*len(fp))
	for i, v := range fp {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return atomicfile.WriteFile(d.Seen(), b)
}

// ReadSeen returns the sorted fingerprints of the images the run in dir
// trained and validated on: from its rundir.SeenFile, or, for a run written before
// there was one, from the run's data loaded again (checked against the
// hash config.json records).
func ReadSeen(dir string) ([]uint64, error) {
	path := rundir.Dir(dir).Seen()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		rec, err := ReadRecord(dir)
		if err != nil {
			return nil, err
		}
		data, err := LoadData(rec.Config)
		if err != nil {
			return nil, fmt.Errorf("train: %s has no %s and its data cannot be read to tell which images it saw: %w", dir, rundir.SeenFile, err)
		}
		if data.Info.SHA256 != rec.Data.SHA256 {
			return nil, fmt.Errorf("train: %s has no %s, and its data %s now hashes to %s, not %s as recorded", dir, rundir.SeenFile, data.Info.Source, data.Info.SHA256, rec.Data.SHA256)
		}
		return data.Seen(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("train: %s: %d bytes is not a whole number of 8-byte fingerprints", path, len(b))
	}
	fp := make([]uint64, len(b)/8)
	for i := range fp {
		fp[i] = binary.LittleEndian.Uint64(b[8*i:])
		if i > 0 && fp[i] < fp[i-1] {
			return nil, fmt.Errorf("train: %s: fingerprint %d is out of order", path, i)
		}
	}
	return fp, nil
}

// check reports the first field of a log entry that cannot have been
// written by a run: line is its 1-based line in log.jsonl.
func (e LogEntry) check(line int) error {
	frac := func(v float64) bool { return v >= 0 && v <= 1 }
	switch {
	case e.Epoch != line-1:
		return fmt.Errorf("epoch %d: line %d holds epoch %d", e.Epoch, line, line-1)
	case !(e.LR > 0) || math.IsInf(e.LR, 0):
		return fmt.Errorf("lr %v must be positive", e.LR)
	case e.GlobalSteps < 1:
		return fmt.Errorf("global_steps %d must be at least 1", e.GlobalSteps)
	case !frac(e.Val.Clean.SA) || !frac(e.Val.Clean.RA) || !frac(e.Val.Adv.SA) || !frac(e.Val.Adv.RA):
		return fmt.Errorf("val accuracies %+v must be fractions in [0, 1]", e.Val)
	}
	for _, p := range []*PassMetrics{e.Train.Clean, e.Train.Adv} {
		if p != nil && !frac(p.Accuracy) {
			return fmt.Errorf("train accuracy %v must be a fraction in [0, 1]", p.Accuracy)
		}
	}
	return nil
}

// ReadLog reads the entries of a run directory's log.jsonl.
func ReadLog(dir string) ([]LogEntry, error) {
	path := rundir.Dir(dir).Log()
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("train: %w", err)
	}
	defer f.Close()
	var out []LogEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var e LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("train: %s: line %d: %v", path, line, err)
		}
		if err := e.check(line); err != nil {
			return out, fmt.Errorf("train: %s: line %d: %v", path, line, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// truncateLines keeps the first n lines of a line file of the run,
// log.jsonl or landscape.jsonl (those the checkpoint being resumed from had
// written; later ones, or a torn last line, go). Only log.jsonl is created
// when missing.
func (d runDir) truncateLines(path string, n int) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("train: %w", err)
	}
	if err != nil && n == 0 && path != d.Log() {
		return nil
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	var keep []byte
	for i := 0; i < n; i++ {
		if i >= len(lines) || !bytes.HasSuffix(lines[i], []byte("\n")) {
			return fmt.Errorf("train: %s has %d whole lines, the checkpoint expects %d", path, i, n)
		}
		keep = append(keep, lines[i]...)
	}
	return atomicfile.WriteFile(path, keep)
}

// appendLine appends v as one JSON line to a line file of the run and
// syncs it.
func (d runDir) appendLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("train: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("train: %w", err)
	}
	return f.Close()
}

// saveCheckpoint writes the model, the optimiser and the run's position.
func saveCheckpoint(path string, m *resnet.Model, opt *SGD, c Config, st State, data DataInfo) error {
	cj, err := json.Marshal(c)
	if err != nil {
		return err
	}
	sj, err := json.Marshal(st)
	if err != nil {
		return err
	}
	completed := st.Epoch
	meta := map[string]string{MetaTrainConfig: string(cj), MetaTrainState: string(sj), MetaDataSHA256: data.SHA256, MetaEpoch: fmt.Sprint(completed)}
	if err := m.Save(path, opt.Buffers(), meta); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// loadCheckpoint reads a training checkpoint of the run configured by c on
// data: the model, the optimiser and the position.
func loadCheckpoint(path string, c Config, data DataInfo) (*resnet.Model, *SGD, State, error) {
	var st State
	m, f, err := resnet.Load(path)
	if err != nil {
		return nil, nil, st, err
	}
	var saved Config
	if err := json.Unmarshal([]byte(f.Meta[MetaTrainConfig]), &saved); err != nil {
		return nil, nil, st, fmt.Errorf("train: %s: %s: %v", path, MetaTrainConfig, err)
	}
	if !reflect.DeepEqual(saved, c) {
		return nil, nil, st, fmt.Errorf("train: %s was written by another configuration than %s records", path, rundir.ConfigFile)
	}
	if got := f.Meta[MetaDataSHA256]; got != data.SHA256 {
		return nil, nil, st, fmt.Errorf("train: %s was trained on data with sha256 %s, the data now hashes to %s", path, got, data.SHA256)
	}
	if err := json.Unmarshal([]byte(f.Meta[MetaTrainState]), &st); err != nil {
		return nil, nil, st, fmt.Errorf("train: %s: %s: %v", path, MetaTrainState, err)
	}
	opt := NewSGD(m.Params(), c.Momentum, c.WeightDecay)
	if err := f.Assign(opt.Buffers(), isModelTensor); err != nil {
		return nil, nil, st, fmt.Errorf("train: optimiser state: %w", err)
	}
	return m, opt, st, nil
}

// isModelTensor reports whether a checkpoint tensor is not optimiser state.
func isModelTensor(name string) bool { return !strings.HasPrefix(name, resnet.OptimizerPrefix) }
