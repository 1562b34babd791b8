// Package texttable makes the text tables advbench prints: tablewriter with
// headers kept as written (its default upper-cases them and splits words at
// case changes, turning "SaAuxBN (adv)" into "SA AUX BN ( ADV )").
package texttable

import (
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// New returns a table writing to w.
func New(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
}
