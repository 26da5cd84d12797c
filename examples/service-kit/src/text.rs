//! Text a handler is about to store or compare in a `text` column, refused as 422 before it
//! reaches the database: PostgreSQL cannot hold U+0000 in a `text` value (the statement fails,
//! a 500), and each field has a stated maximum length.

use super::ApiError;
use axum::http::StatusCode;

/// `value` if PostgreSQL can store it and it has at most `max_chars` characters (Unicode
/// scalar values, as PostgreSQL's `char_length` counts them); else a 422: `invalid_text`
/// for a NUL, `too_long` beyond the limit. `field` names it in the message.
pub fn checked<'a>(field: &str, value: &'a str, max_chars: usize) -> Result<&'a str, ApiError> {
    if value.contains('\0') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
            format!("{field} contains a NUL character (U+0000), which PostgreSQL cannot store"),
        ));
    }
    // No more bytes than the limit: no more characters either, no need to count them.
    if value.len() > max_chars && value.chars().count() > max_chars {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_long",
            format!("{field} is longer than {max_chars} characters"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::checked;

    #[test]
    fn nul_and_length_are_refused_with_their_kinds() {
        assert_eq!(checked("task", "buy milk", 8).unwrap(), "buy milk");
        assert_eq!(checked("task", "ééé", 3).unwrap(), "ééé");
        assert_eq!(
            checked("task", "a\0b", 10).unwrap_err().kind,
            "invalid_text"
        );
        let long = checked("task", "abcd", 3).unwrap_err();
        assert_eq!((long.status.as_u16(), long.kind), (422, "too_long"));
    }
}
