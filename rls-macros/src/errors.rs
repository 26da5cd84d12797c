use std::fmt::Display;

/// Every error found in one derive, reported together.
#[derive(Default)]
pub struct Errors(Option<syn::Error>, usize);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        self.1 += 1;
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn at(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub fn span(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// How many errors so far: a check that would only repeat an earlier error compares it.
    pub fn count(&self) -> usize {
        self.1
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn into_compile_errors(self) -> proc_macro2::TokenStream {
        self.0.map(|e| e.to_compile_error()).unwrap_or_default()
    }
}
