//! A data event record, what clients send to create or replace one, and the rules it must follow.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::problem::Problem;

/// The SPA's limits (clients/angular/src/app/data-event-records/data-event-record.ts); the API enforces them.
pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 1000;

/// A record as the API returns it (`GET`, and the answers to `POST` and `PUT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// RFC 3339, in UTC.
    pub timestamp: String,
}

/// The id in a URL: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordId(i64);

impl RecordId {
    /// Anything else than a positive integer names no record, so it is a 404 like an unknown number.
    pub fn parse(text: &str) -> Result<Self, Problem> {
        match text.parse::<i64>() {
            Ok(id) if id > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(Self(id)),
            _ => Err(Problem::not_found(format!(
                "there is no record {:?}: record ids are positive integers",
                clip(text)
            ))),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The body of `POST` (`{name, description, timestamp}`) and `PUT` (the same with the `id`), exactly what the
/// SPA sends. Unknown members are refused, so a misspelt one is an error rather than silently dropped.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub timestamp: Option<String>,
}

/// A record that passed the rules, ready to store (the timestamp normalised to UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRecord {
    pub name: String,
    pub description: String,
    pub timestamp: String,
}

impl RecordInput {
    /// For `POST`: the API assigns the id, so the body has none.
    pub fn for_create(self) -> Result<ValidRecord, Problem> {
        if let Some(id) = self.id {
            return Err(Problem::bad_request(format!(
                "the body has the id {id}, but ids are assigned by the API; leave \"id\" out when creating a record"
            )));
        }
        self.validate()
    }

    /// For `PUT /{id}`: an id in the body, if any, must be the one in the URL.
    pub fn for_update(self, id: RecordId) -> Result<ValidRecord, Problem> {
        if let Some(in_body) = self.id
            && in_body != id.get()
        {
            return Err(Problem::bad_request(format!(
                "the id in the body ({in_body}) is not the id in the URL ({})",
                id.get()
            )));
        }
        self.validate()
    }

    fn validate(self) -> Result<ValidRecord, Problem> {
        let missing = |field: &str| Problem::bad_request(format!("\"{field}\" is required"));
        let name = self.name.ok_or_else(|| missing("name"))?;
        if name.trim().is_empty() {
            return Err(Problem::bad_request("\"name\" must not be blank"));
        }
        check_length("name", &name, NAME_MAX_CHARS)?;
        let description = self.description.ok_or_else(|| missing("description"))?;
        check_length("description", &description, DESCRIPTION_MAX_CHARS)?;
        let timestamp = self.timestamp.ok_or_else(|| missing("timestamp"))?;
        let parsed = OffsetDateTime::parse(&timestamp, &Rfc3339).map_err(|_| {
            Problem::bad_request(format!(
                "\"timestamp\" is {:?}, not an RFC 3339 date-time such as \"2026-11-01T12:00:00.000Z\"",
                clip(&timestamp)
            ))
        })?;
        let timestamp = parsed
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|_| Problem::bad_request("\"timestamp\" is outside the years 0000 to 9999"))?;
        Ok(ValidRecord { name, description, timestamp })
    }
}

fn check_length(field: &str, value: &str, max: usize) -> Result<(), Problem> {
    let length = value.chars().count();
    if length > max {
        return Err(Problem::bad_request(format!("\"{field}\" has {length} characters; at most {max} are allowed")));
    }
    Ok(())
}

/// A value from the request, shortened before it is quoted back.
fn clip(value: &str) -> String {
    const MAX: usize = 40;
    match value.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn input(name: Option<&str>, description: Option<&str>, timestamp: Option<&str>) -> RecordInput {
        RecordInput {
            id: None,
            name: name.map(str::to_owned),
            description: description.map(str::to_owned),
            timestamp: timestamp.map(str::to_owned),
        }
    }

    fn detail(result: Result<ValidRecord, Problem>) -> String {
        let problem = result.unwrap_err();
        assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
        problem.detail().to_owned()
    }

    const WHEN: Option<&str> = Some("2026-11-01T12:00:00.123Z");

    #[test]
    fn what_the_spa_sends_is_accepted_and_the_time_normalised_to_utc() {
        let valid = input(Some("Deploy"), Some(""), Some("2026-11-01T13:00:00.5+01:00")).for_create().unwrap();
        assert_eq!(valid.timestamp, "2026-11-01T12:00:00.5Z");
        assert_eq!(valid.description, "");
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(detail(input(None, Some("d"), WHEN).for_create()), "\"name\" is required");
        assert_eq!(detail(input(Some("n"), None, WHEN).for_create()), "\"description\" is required");
        assert_eq!(detail(input(Some("n"), Some("d"), None).for_create()), "\"timestamp\" is required");
        assert_eq!(detail(input(Some("  "), Some("d"), WHEN).for_create()), "\"name\" must not be blank");
    }

    #[test]
    fn oversized_fields_are_refused_counting_characters_not_bytes() {
        let name = "é".repeat(NAME_MAX_CHARS);
        assert!(input(Some(&name), Some("d"), WHEN).for_create().is_ok());
        let long = "n".repeat(NAME_MAX_CHARS + 1);
        assert_eq!(
            detail(input(Some(&long), Some("d"), WHEN).for_create()),
            "\"name\" has 101 characters; at most 100 are allowed"
        );
        let long = "d".repeat(DESCRIPTION_MAX_CHARS + 1);
        assert!(detail(input(Some("n"), Some(&long), WHEN).for_create()).starts_with("\"description\" has 1001"));
    }

    #[test]
    fn a_timestamp_must_be_rfc3339() {
        for bad in ["yesterday", "2026-11-01", "2026-11-01 12:00:00", "2026-13-01T00:00:00Z"] {
            assert!(detail(input(Some("n"), Some("d"), Some(bad)).for_create()).contains("RFC 3339"), "{bad}");
        }
    }

    #[test]
    fn ids_in_bodies_follow_the_method() {
        let with_id = |id| RecordInput { id: Some(id), ..input(Some("n"), Some("d"), WHEN) };
        assert!(detail(with_id(3).for_create()).contains("assigned by the API"));
        assert!(with_id(3).for_update(RecordId(3)).is_ok());
        assert_eq!(detail(with_id(4).for_update(RecordId(3))), "the id in the body (4) is not the id in the URL (3)");
        assert!(input(Some("n"), Some("d"), WHEN).for_update(RecordId(3)).is_ok());
    }

    #[test]
    fn only_positive_integers_are_record_ids() {
        assert_eq!(RecordId::parse("42").unwrap().get(), 42);
        for bad in ["0", "-1", "+1", "abc", "1.5", "99999999999999999999", ""] {
            assert_eq!(RecordId::parse(bad).unwrap_err().status(), StatusCode::NOT_FOUND, "{bad}");
        }
    }
}
