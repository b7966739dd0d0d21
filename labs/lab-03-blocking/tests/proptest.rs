//! Chapter 3: the HTTP parser against random input. Whatever the bytes, `parse_head`
//! returns a request, asks for more, or names what is wrong (no panic), and a well-formed
//! request comes back exactly as it was written.

use lab_03::http::{HttpError, MAX_HEAD, parse_head};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_bytes_give_a_request_more_or_a_typed_error(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        crlf in any::<bool>(),
    ) {
        let mut input = bytes.clone();
        if crlf {
            input.extend_from_slice(b"\r\n\r\n");
        }
        match parse_head(&input) {
            Ok(Some((request, used))) => {
                prop_assert!(used <= input.len() && used <= MAX_HEAD);
                prop_assert_eq!(&input[used - 4..used], b"\r\n\r\n");
                prop_assert!(request.target.starts_with('/'));
            }
            Ok(None) => prop_assert!(!input.windows(4).any(|w| w == b"\r\n\r\n")),
            Err(e) => {
                let (status, _) = e.status();
                prop_assert!(matches!(status, 400 | 413 | 431 | 501 | 505), "{e:?}");
            }
        }
    }

    #[test]
    fn random_printable_heads_never_panic(
        lines in prop::collection::vec("[ -~]{0,40}", 0..12),
    ) {
        let text = format!("{}\r\n\r\n", lines.join("\r\n"));
        let _ = parse_head(text.as_bytes());
    }

    #[test]
    fn a_well_formed_request_parses_back(
        method in "[A-Z]{1,7}",
        path in "/[a-z0-9/?=&]{0,30}",
        headers in prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,15}", "[!-~]([ -~]{0,30}[!-~])?"), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let headers: Vec<_> = headers
            .into_iter()
            .filter(|(n, _)| !["content-length", "transfer-encoding"].contains(&n.to_ascii_lowercase().as_str()))
            .collect();
        let mut text = format!("{method} {path} HTTP/1.1\r\n");
        for (n, v) in &headers {
            text += &format!("{n}: {v}\r\n");
        }
        text += "\r\n";
        let (request, used) = parse_head(text.as_bytes()).unwrap().unwrap();
        prop_assert_eq!(used, text.len());
        prop_assert_eq!(request.method, method);
        prop_assert_eq!(request.target, path);
        prop_assert_eq!(request.headers, headers);
        // Any strict prefix is "not yet": the parser never guesses from a partial head.
        let prefix = &text.as_bytes()[..cut.index(text.len())];
        prop_assert_eq!(parse_head(prefix), Ok(None));
    }

    #[test]
    fn a_head_that_never_ends_is_refused_at_the_limit(fill in 0u8..128) {
        let input = vec![fill.max(b' '); MAX_HEAD + 10];
        prop_assert_eq!(parse_head(&input), Err(HttpError::HeadTooLarge));
    }
}
