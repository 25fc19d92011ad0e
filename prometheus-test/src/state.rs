//! The resume state in `data_dir/test_state.json` (skeleton).
