// Package cluster plans a reproduction on the batch systems users already
// run: a Kubernetes batch/v1 Job in Indexed completion mode (built with the
// k8s.io/api types) or a Slurm job array, one task per (norm, seed) cell,
// each running 'advbench reproduce --cell auto' into a shared results
// directory. It schedules nothing itself; 'advbench reproduce merge' renders
// the cells once they are done.
package cluster

import (
	"fmt"
	"math"
	"strings"

	"github.com/advbench/advbench/study"
	"github.com/advbench/advbench/train"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Options configure a plan's manifest.
type Options struct {
	// Image is the container image holding /advbench (Kubernetes).
	Image string
	// Results is where cells write: a PersistentVolumeClaim name
	// (Kubernetes, mounted at /results) or a directory (Slurm).
	Results string
	// DataPath is the CIFAR-10 directory as the tasks see it ("" for the
	// built-in data).
	DataPath string
	// Parallelism is how many cells run at once (0: all).
	Parallelism int
	// Name names the job (default advbench-PRESET).
	Name string
}

// Name returns the job name.
func (o Options) name(p study.Plan) string {
	if o.Name != "" {
		return o.Name
	}
	return "advbench-" + p.Preset
}

// command is the task's command line; the cell comes from the engine's
// index variable (--cell auto).
func command(p study.Plan, out, data string) []string {
	var seeds []string
	for _, s := range p.Seeds {
		seeds = append(seeds, fmt.Sprint(s))
	}
	args := []string{"reproduce", "--cell", "auto", "--preset", p.Preset, "--norms", strings.Join(p.Norms, ","), "--seeds", strings.Join(seeds, ","), "--out", out}
	if data != "" {
		args = append(args, "--data", data)
	}
	if p.EvalN != 0 {
		args = append(args, "--eval-n", fmt.Sprint(p.EvalN))
	}
	if p.GradN != 0 {
		args = append(args, "--grad-n", fmt.Sprint(p.GradN))
	}
	if len(p.Attacks) != 0 {
		args = append(args, "--attacks", strings.Join(p.Attacks, ","))
	}
	if p.LandscapeEvery != 0 {
		args = append(args, "--landscape-every", fmt.Sprint(p.LandscapeEvery))
	}
	return args
}

// ResultsMount is where a Kubernetes task sees the results volume.
const ResultsMount = "/results"

// Kubernetes returns the batch/v1 Job running the plan's cells as an
// Indexed Job: completions = cells, each index one cell (retried up to
// three times on its own), requests sized from the preset's cost, the
// results volume at /results.
func Kubernetes(p study.Plan, o Options) (*batchv1.Job, error) {
	name := o.name(p)
	p, cost, err := placed(p, ResultsMount, name)
	if err != nil {
		return nil, err
	}
	var m []string
	if o.Image == "" {
		m = append(m, "Image")
	}
	if o.Results == "" {
		m = append(m, "Results")
	}
	if len(m) > 0 {
		return nil, &MissingError{Target: "Kubernetes", Missing: m}
	}
	out := p.Out
	n := int32(len(p.Cells()))
	par := n
	if o.Parallelism > 0 && int32(o.Parallelism) < n {
		par = int32(o.Parallelism)
	}
	indexed := batchv1.IndexedCompletion
	perIndex, failed := int32(3), n
	res := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(cost.CPUs), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(cost.MemMiB)<<20, resource.BinarySI),
	}
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/name": "advbench", "advbench/preset": p.Preset}},
		Spec: batchv1.JobSpec{
			CompletionMode:       &indexed,
			Completions:          &n,
			Parallelism:          &par,
			BackoffLimitPerIndex: &perIndex,
			MaxFailedIndexes:     &failed,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "advbench"}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name:         "cell",
						Image:        o.Image,
						Command:      append([]string{"/advbench"}, command(p, out, o.DataPath)...),
						Env:          []corev1.EnvVar{{Name: "GOMAXPROCS", Value: fmt.Sprint(cost.CPUs)}},
						Resources:    corev1.ResourceRequirements{Requests: res, Limits: corev1.ResourceList{corev1.ResourceMemory: res[corev1.ResourceMemory]}},
						VolumeMounts: []corev1.VolumeMount{{Name: "results", MountPath: ResultsMount}},
					}},
					Volumes: []corev1.Volume{{Name: "results", VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: o.Results}}}},
				},
			},
		},
	}
	return job, nil
}

// KubernetesYAML serialises the Job.
func KubernetesYAML(job *batchv1.Job) ([]byte, error) {
	return yaml.Marshal(job)
}

// Slurm returns an sbatch script running the plan's cells as a job array
// (one task per cell, at most Parallelism at once), each with the preset's
// CPUs, memory and a time limit of twice its measured wall time.
func Slurm(p study.Plan, o Options) (string, error) {
	if o.Results == "" {
		return "", &MissingError{Target: "Slurm", Missing: []string{"Results"}}
	}
	name := o.name(p)
	p, cost, err := placed(p, o.Results, name)
	if err != nil {
		return "", err
	}
	out := p.Out
	n := len(p.Cells())
	array := fmt.Sprintf("0-%d", n-1)
	if o.Parallelism > 0 && o.Parallelism < n {
		array += fmt.Sprintf("%%%d", o.Parallelism)
	}
	wall := 2 * cost.CPUHours / float64(cost.CPUs) // hours, with headroom
	minutes := int(math.Ceil(wall * 60))
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n# advbench reproduction, preset %s: %d cells (norms %s x seeds %v), one array task each.\n", p.Preset, n, strings.Join(p.Norms, ","), p.Seeds)
	fmt.Fprintf(&b, "# Cost per cell: %.2f CPU-hours (%s).\n", cost.CPUHours, cost.Measured)
	fmt.Fprintf(&b, "# When every task has finished: advbench reproduce merge %s\n", shellQuote(out))
	logs := strings.TrimSuffix(o.Results, "/") + "/logs/%x-%a.out"
	if strings.ContainsAny(logs, " \t\"") {
		logs = `"` + strings.ReplaceAll(logs, `"`, `\"`) + `"`
	}
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n#SBATCH --array=%s\n#SBATCH --cpus-per-task=%d\n#SBATCH --mem=%dM\n#SBATCH --time=%d:%02d:00\n#SBATCH --output=%s\n",
		name, array, cost.CPUs, cost.MemMiB, minutes/60, minutes%60, logs)
	b.WriteString("set -euo pipefail\n")
	fmt.Fprintf(&b, "mkdir -p %s/logs\n", shellQuote(strings.TrimSuffix(o.Results, "/")))
	b.WriteString("export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-" + fmt.Sprint(cost.CPUs) + "}\"\n")
	args := command(p, out, o.DataPath)
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	fmt.Fprintf(&b, "exec advbench %s\n", strings.Join(args, " "))
	return b.String(), nil
}

// placed points the plan's output at root/name, validates it and looks up
// the preset's measured cost.
func placed(p study.Plan, root, name string) (study.Plan, train.Cost, error) {
	p.Out = strings.TrimSuffix(root, "/") + "/" + name
	if err := p.Validate(); err != nil {
		return p, train.Cost{}, err
	}
	spec, err := train.LookupPreset(p.Preset)
	return p, spec.Cost, err
}

// shellQuote quotes a word for bash when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:=%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Summary lists the cells and the estimated CPU-hours.
func Summary(p study.Plan) string {
	spec, _ := train.LookupPreset(p.Preset)
	cost := spec.Cost
	var b strings.Builder
	cells := p.Cells()
	fmt.Fprintf(&b, "# %d cells, preset %s, about %.1f CPU-hours each (%s); %.1f CPU-hours in all\n", len(cells), p.Preset, cost.CPUHours, cost.Measured, cost.CPUHours*float64(len(cells)))
	for _, c := range cells {
		fmt.Fprintf(&b, "#   cell %d: %s seed %d\n", c.Index, c.Norm, c.Seed)
	}
	return b.String()
}
