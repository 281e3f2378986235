# Used by the doc examples of `#[step]` (source_dir = "steps/train").
