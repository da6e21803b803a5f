// The Experiments module; see ../../README.md and DESIGN.md §2.
