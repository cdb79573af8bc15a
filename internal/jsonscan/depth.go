package jsonscan

// Depth is how deeply the JSON value b nests objects and arrays: 0 for a
// scalar, 1 for {} or [1], 2 for {"a":[]}. Brackets inside strings do not
// count. It skips b as checked text, so it is cheap to ask before decoding.
func Depth(b []byte) int {
	t := Text{B: b, Checked: true}
	deepest, _ := t.skipChecked()
	return deepest
}
