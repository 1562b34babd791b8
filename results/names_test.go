package results

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResultTypesHaveOneName: no package of the module gives a type of this
// package a second name (type Params = results.AttackParams) or declares
// its own Source (a path and the *results.File read from it); a reader of
// any package meets each result type under the one name results.X.
func TestResultTypesHaveOneName(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var aliases, copies []string
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(root, path)
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, spec := range g.Specs {
				ts := spec.(*ast.TypeSpec)
				if sel, ok := ts.Type.(*ast.SelectorExpr); ok && ts.Assign.IsValid() {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "results" {
						aliases = append(aliases, rel+": "+ts.Name.Name+" = results."+sel.Sel.Name)
					}
				}
				if st, ok := ts.Type.(*ast.StructType); ok && isSource(st) && filepath.Dir(rel) != "results" {
					copies = append(copies, rel+": type "+ts.Name.Name)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 50, "the module's Go files were read from %s", root)
	assert.Empty(t, aliases, "second names of result types")
	assert.Empty(t, copies, "result-file types declared outside results")
}

// isSource reports whether st has Source's shape: a Path string and a File
// *results.File, nothing else.
func isSource(st *ast.StructType) bool {
	var fields []string
	for _, f := range st.Fields.List {
		typ := ""
		switch x := f.Type.(type) {
		case *ast.Ident:
			typ = x.Name
		case *ast.StarExpr:
			if sel, ok := x.X.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok {
					typ = "*" + pkg.Name + "." + sel.Sel.Name
				}
			}
		}
		for _, n := range f.Names {
			fields = append(fields, n.Name+" "+typ)
		}
	}
	return len(fields) == 2 && fields[0] == "Path string" && fields[1] == "File *results.File"
}
