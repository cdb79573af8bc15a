package testenv

// NumberCase is a number as text and what every reader must make of it:
// Value when OK, else a refusal.
type NumberCase struct {
	Text  string
	Value float64
	OK    bool
}

// NumberSyntax is the one table of number texts every reader of numbers
// (JSON bodies, CSV, query parameters, layer files) is held to: JSON's
// syntax (RFC 8259 §6), finite, spaces around it allowed.
func NumberSyntax() []NumberCase {
	return []NumberCase{
		{"0", 0, true},
		{"-12.5", -12.5, true},
		{"30.5234", 30.5234, true},
		{"1e1", 10, true},
		{"-1E-3", -0.001, true},
		{"2.5e+1", 25, true},
		{" 7 ", 7, true},
		{"-0", 0, true},
		{"0x1p4", 0, false},
		{"0x10", 0, false},
		{"Inf", 0, false},
		{"-Infinity", 0, false},
		{"NaN", 0, false},
		{"+1", 0, false},
		{".5", 0, false},
		{"1.", 0, false},
		{"01", 0, false},
		{"1_0", 0, false},
		{"1e", 0, false},
		{"--1", 0, false},
		{"", 0, false},
		{"1e400", 0, false},
		{"1\x00", 0, false},
	}
}
