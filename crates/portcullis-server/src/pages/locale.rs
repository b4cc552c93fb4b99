//! Which language a page speaks: OIDC Core §3.1.2.1 `ui_locales` first, then the browser's `Accept-Language`
//! (RFC 9110 §12.5.4), then English.

use super::i18n::{self, Strings};

/// A language every page is translated into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    Fr,
}

/// Both headers are attacker-controlled; past this many entries nobody is stating a real preference, and the
/// bound keeps the sort below cheap whatever is sent.
const MAX_LANGUAGE_RANGES: usize = 32;

impl Locale {
    /// OIDC `ui_locales` (space-separated BCP47 tags, first supported wins) beats `Accept-Language`
    /// (q-values honoured, `fr-CA` → Fr); default En.
    ///
    /// `ui_locales` is only a preference (OIDC Core §3.1.2.1), so when it names nothing we speak, the browser's
    /// languages still decide rather than falling straight back to English.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Locale {
        ui_locales
            .and_then(|tags| tags.split_ascii_whitespace().take(MAX_LANGUAGE_RANGES).find_map(Locale::from_tag))
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or_default()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
        }
    }

    /// Every piece of text the pages show, in this language; flow code uses it for the texts it passes in
    /// (for instance [`Strings::signed_out_title`]).
    pub fn strings(self) -> &'static Strings {
        match self {
            Locale::En => &i18n::EN,
            Locale::Fr => &i18n::FR,
        }
    }

    /// Matches on the primary language subtag only, so any region or script (`fr-CA`, `fr-Latn-BE`) falls back
    /// to the one translation we have of that language.
    fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            Some(Locale::En)
        } else if primary.eq_ignore_ascii_case("fr") {
            Some(Locale::Fr)
        } else {
            None
        }
    }
}

fn from_accept_language(header: &str) -> Option<Locale> {
    let ranges = header.split(',').take(MAX_LANGUAGE_RANGES).filter_map(|range| {
        let mut parts = range.split(';');
        let locale = Locale::from_tag(parts.next()?.trim())?;
        let weight = parts.find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim().eq_ignore_ascii_case("q").then(|| parse_weight(value.trim()))
        });
        // A malformed q-value drops the range rather than guessing what the browser meant.
        let weight = weight.unwrap_or(Some(1000))?;
        (weight > 0).then_some((weight, locale))
    });
    // Among equal weights the first sent wins, hence strictly greater.
    ranges
        .fold(None, |best: Option<(u16, Locale)>, candidate| match best {
            Some(best) if best.0 >= candidate.0 => Some(best),
            _ => Some(candidate),
        })
        .map(|(_, locale)| locale)
}

/// RFC 9110 §12.4.2 `qvalue`: "0" to "1" with at most three decimals, returned in thousandths.
fn parse_weight(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_core_3_1_2_1_ui_locales_beats_accept_language() {
        assert_eq!(Locale::negotiate(Some("fr"), Some("en-US,en;q=0.9")), Locale::Fr);
        assert_eq!(Locale::negotiate(Some("en"), Some("fr-FR")), Locale::En);
    }

    #[test]
    fn ui_locales_first_supported_tag_wins() {
        assert_eq!(Locale::negotiate(Some("de-DE  fr-CA en"), None), Locale::Fr);
        assert_eq!(Locale::negotiate(Some("ja en-GB fr"), None), Locale::En);
    }

    #[test]
    fn ui_locales_with_nothing_supported_falls_back_to_accept_language() {
        assert_eq!(Locale::negotiate(Some("de ja"), Some("fr")), Locale::Fr);
        assert_eq!(Locale::negotiate(Some(""), Some("fr;q=0.5")), Locale::Fr);
    }

    #[test]
    fn region_and_script_subtags_fall_back_to_the_language() {
        assert_eq!(Locale::negotiate(None, Some("fr-CA")), Locale::Fr);
        assert_eq!(Locale::negotiate(Some("FR-be"), None), Locale::Fr);
        assert_eq!(Locale::negotiate(Some("fr-Latn-CH"), None), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("fr_FR")), Locale::Fr);
    }

    #[test]
    fn rfc9110_12_5_4_q_values_order_the_languages() {
        assert_eq!(Locale::negotiate(None, Some("en;q=0.4, fr;q=0.8")), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("fr;q=0.3, de, en;q=0.7")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some("fr;q=0.500,en;q=0.499")), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")), Locale::Fr);
    }

    #[test]
    fn equal_q_values_keep_the_order_sent() {
        assert_eq!(Locale::negotiate(None, Some("fr;q=0.8, en;q=0.8")), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("en, fr")), Locale::En);
    }

    #[test]
    fn rfc9110_12_4_2_q_zero_means_not_acceptable() {
        assert_eq!(Locale::negotiate(None, Some("fr;q=0, en;q=0.1")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some("en;q=0.000, fr;q=0.001")), Locale::Fr);
    }

    #[test]
    fn malformed_q_values_drop_the_range() {
        assert_eq!(Locale::negotiate(None, Some("en;q=2, fr;q=0.1")), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("en;q=abc, fr;q=0.1")), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("en;q=0.0001, fr;q=0.1")), Locale::Fr);
        assert_eq!(Locale::negotiate(None, Some("en;q=1.5, fr;q=0.1")), Locale::Fr);
    }

    #[test]
    fn unknown_or_missing_languages_default_to_english() {
        assert_eq!(Locale::negotiate(None, None), Locale::En);
        assert_eq!(Locale::negotiate(Some("de"), Some("ja, zh;q=0.9")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some("*")), Locale::En);
        assert_eq!(Locale::negotiate(None, Some(",;;==,")), Locale::En);
        assert_eq!(Locale::negotiate(Some("frisian"), None), Locale::En);
    }

    #[test]
    fn only_the_first_ranges_of_a_huge_header_are_read() {
        let header = format!("{}fr", "de, ".repeat(10_000));
        assert_eq!(Locale::negotiate(None, Some(&header)), Locale::En);
    }

    #[test]
    fn tags_are_lowercase_bcp47() {
        assert_eq!(Locale::En.tag(), "en");
        assert_eq!(Locale::Fr.tag(), "fr");
    }
}
