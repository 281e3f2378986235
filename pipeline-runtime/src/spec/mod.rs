//! Azure ML wire forms.
