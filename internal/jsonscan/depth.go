package jsonscan

// Depth is how deeply the JSON text b nests objects and arrays: 0 for a
// scalar, 1 for {} or [1], 2 for {"a":[]}. Brackets inside strings do not
// count. It reads bytes only, so it is cheap to ask before decoding.
func Depth(b []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := valueEnd(b, i)
			if end < 0 {
				return deepest
			}
			i = end - 1
		case '{', '[':
			if depth++; depth > deepest {
				deepest = depth
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}
