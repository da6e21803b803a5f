// The NN module; see ../../README.md and DESIGN.md §2.
