//! The errors of one derive, collected so that one build reports every mistake.

use std::fmt::Display;

#[derive(Default)]
pub struct Errors {
    all: Option<syn::Error>,
    count: usize,
}

/// How many errors had been reported when an attribute (or field) began.
///
/// A follow-up check ("#[crud_policy] needs `role`") stays quiet only when the attribute it
/// depends on had an error of its own, which it would merely repeat; mistakes elsewhere in
/// the struct never hide it.
#[derive(Clone, Copy)]
pub struct Checkpoint(usize);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.all {
            Some(all) => all.combine(error),
            None => self.all = Some(error),
        }
    }

    pub fn at(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub fn span(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.count)
    }

    /// Whether anything was reported since `checkpoint`.
    pub fn since(&self, checkpoint: Checkpoint) -> bool {
        self.count > checkpoint.0
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_none()
    }

    pub fn into_compile_errors(self) -> proc_macro2::TokenStream {
        self.all.map(|e| e.to_compile_error()).unwrap_or_default()
    }
}
