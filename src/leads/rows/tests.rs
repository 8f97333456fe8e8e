//! How files split into records and rows are checked: pieces, lines, quotes, line ends, NUL,
//! wide headers, reasons.

use super::*;

fn split(file: &str, piece: usize) -> (Vec<String>, Vec<RawChunk>) {
    let mut splitter = Splitter::new();
    let mut chunks = Vec::new();
    for part in file.as_bytes().chunks(piece) {
        chunks.extend(splitter.feed(part).unwrap());
    }
    let (header, last) = splitter.finish().unwrap();
    chunks.extend(last);
    (header.unwrap(), chunks)
}

#[test]
fn a_file_in_any_pieces_gives_the_same_records_on_their_lines() {
    let file = "\u{feff}Name,E-mail,Phone\nAna,ana@example.com,\n\n\"Bo\nBo\",bo@example.com,1\r\nCy,,+1 555 0100";
    for piece in [1, 2, 5, 1000] {
        let (header, chunks) = split(file, piece);
        assert_eq!(header, ["name", "email", "phone"]);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].first_line, 2);
        assert_eq!(chunks[0].rows, 3, "blank lines are not rows");
        let rows = csv_rows(
            &header,
            &RawChunkRef {
                first_line: chunks[0].first_line,
                body: &chunks[0].body,
            },
        );
        let lines: Vec<i64> = rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 4, 6], "pieces of {piece}");
    }
}

#[test]
fn chunks_hold_whole_records_and_count_lines_across_them() {
    let mut file = String::from("email,notes\n");
    for i in 0..1200 {
        file.push_str(&format!("u{i}@example.com,\"two\nlines\"\n"));
    }
    let (_, chunks) = split(&file, 4096);
    let rows: Vec<usize> = chunks.iter().map(|c| c.rows).collect();
    assert_eq!(rows, [500, 500, 200]);
    assert_eq!(chunks[1].first_line, 2 + 500 * 2);
    assert_eq!(chunks[2].first_line, 2 + 1000 * 2);
}

#[test]
fn a_header_without_email_or_phone_or_no_header_is_refused() {
    let mut splitter = Splitter::new();
    assert!(matches!(
        splitter.feed(b"name,company\nAna,Acme\n"),
        Err(FileError::Header(_))
    ));
    assert!(matches!(
        Splitter::new().finish(),
        Err(FileError::Header(_))
    ));
    let mut latin1 = Splitter::new();
    latin1.feed(b"email\n").unwrap();
    latin1.feed(b"caf\xe9@example.com\n").unwrap();
    assert_eq!(latin1.finish().unwrap_err(), FileError::NotUtf8);
}

#[test]
fn a_quote_that_never_closes_is_refused_at_its_line_and_memory_stays_bounded() {
    let mut splitter = Splitter::new();
    splitter.feed(b"email,notes\na@example.com,fine\n").unwrap();
    splitter.feed(b"b@example.com,\"opened and\n").unwrap();
    let piece = vec![b'x'; 64 * 1024];
    let mut refused = None;
    for _ in 0..(2 * MAX_RECORD_BYTES / piece.len()) {
        if let Err(e) = splitter.feed(&piece) {
            refused = Some(e);
            break;
        }
        assert!(splitter.pending.len() <= CHUNK_BYTES + MAX_RECORD_BYTES + piece.len());
    }
    let Some(FileError::Record(reason)) = refused else {
        panic!("an endless record was taken: {refused:?}");
    };
    assert!(reason.contains("line 3"), "{reason}");
}

#[test]
fn bare_carriage_returns_end_records_with_lines_of_their_own() {
    let mut splitter = Splitter::new();
    let mut chunks = splitter
        .feed(b"email,name\ra@example.com,Ana\rb@example.com,Ben\r")
        .unwrap();
    let (header, last) = splitter.finish().unwrap();
    chunks.extend(last);
    assert_eq!(header.unwrap(), ["email", "name"]);
    let header = ["email".to_string(), "name".to_string()];
    let lines: Vec<i64> = chunks
        .iter()
        .flat_map(|c| {
            csv_rows(
                &header,
                &RawChunkRef {
                    first_line: c.first_line,
                    body: &c.body,
                },
            )
        })
        .map(|(line, row)| {
            assert!(row.is_ok(), "{row:?}");
            line
        })
        .collect();
    assert_eq!(
        lines,
        [2, 3],
        "an old Mac file's rows, each on its own line"
    );

    // Two bad records split by a bare CR inside one LF line get lines of their own.
    let mut mixed = Splitter::new();
    let mut chunks = mixed
        .feed(b"email\nnot-an-email\ralso-not\nc@example.com\n")
        .unwrap();
    chunks.extend(mixed.finish().unwrap().1);
    let header = ["email".to_string()];
    let lines: Vec<i64> = chunks
        .iter()
        .flat_map(|c| {
            csv_rows(
                &header,
                &RawChunkRef {
                    first_line: c.first_line,
                    body: &c.body,
                },
            )
        })
        .map(|(line, _)| line)
        .collect();
    assert_eq!(lines, [2, 3, 4], "no two records share a line");
}

#[test]
fn a_nul_in_any_field_refuses_the_row_with_its_reason() {
    let refused = check(
        [
            ("email", Some("a@example.com".into())),
            ("notes", Some("x\0y".into())),
        ]
        .into_iter(),
    )
    .unwrap_err();
    assert!(refused.contains("NUL"), "{refused}");
}

#[test]
fn a_wide_header_is_refused_quickly_and_its_duplicates_found_once() {
    let wide: String = (0..MAX_COLUMNS + 1)
        .map(|i| format!("c{i}"))
        .chain(["email".to_string()])
        .collect::<Vec<_>>()
        .join(",");
    let Err(FileError::Header(reason)) = Splitter::new().feed(format!("{wide}\n").as_bytes())
    else {
        panic!("a header of {} columns was taken", MAX_COLUMNS + 2);
    };
    assert!(reason.contains("at most 256"), "{reason}");
    let huge = "x".repeat(MAX_HEADER_BYTES + 1);
    let Err(FileError::Header(reason)) = Splitter::new().feed(huge.as_bytes()) else {
        panic!("a header without end was held");
    };
    assert!(reason.contains("64 KiB"), "{reason}");
    let Err(FileError::Header(reason)) = Splitter::new().feed(b"email,Name,name\n") else {
        panic!("a column named twice was taken");
    };
    assert!(reason.contains("'name' twice"), "{reason}");
}

#[test]
fn rows_are_checked_with_a_reason_for_each_refusal() {
    let row = |pairs: &[(&'static str, &str)]| {
        check(pairs.iter().map(|(k, v)| (*k, Some(v.to_string()))))
    };
    let good = row(&[
        ("email", " Ana@Example.com "),
        ("phone", "+1 (555) 010-0100"),
        ("status", "Qualified"),
        ("last_contact", "2026-11-02"),
        ("language", "pt"),
    ])
    .unwrap();
    assert_eq!(good.email.as_deref(), Some("ana@example.com"));
    assert_eq!(good.phone.as_deref(), Some("+15550100100"));
    assert_eq!(good.status.as_deref(), Some("qualified"));
    assert_eq!(good.extra.as_deref(), Some("{\"language\":\"pt\"}"));
    assert_eq!(
        row(&[("name", "Ana")]).unwrap_err(),
        "the row needs an email or a phone"
    );
    assert_eq!(
        row(&[("email", "not-an-email")]).unwrap_err(),
        "email 'not-an-email' is not a valid address"
    );
    assert_eq!(
        row(&[("phone", "12")]).unwrap_err(),
        "phone '12' is not a valid number"
    );
    let free = row(&[("email", "a@b.co"), ("status", " In Progress ")]).unwrap();
    assert_eq!(free.status, None, "not one of the hub's statuses");
    assert_eq!(free.source_status.as_deref(), Some("In Progress"));
    let map = BTreeMap::from([("in progress".to_string(), "contacted".to_string())]);
    assert_eq!(
        mapped_status("In Progress", &map),
        ("contacted".to_string(), true)
    );
    assert_eq!(mapped_status("offen", &map), ("new".to_string(), false));
    let guarded = row(&[
        ("email", "a@b.co"),
        ("notes", "'=1+1"),
        ("phone", "'+49 151 2345678"),
    ])
    .unwrap();
    assert_eq!(guarded.notes.as_deref(), Some("=1+1"), "an export's guard");
    assert_eq!(guarded.phone.as_deref(), Some("+491512345678"));
    assert_eq!(
        row(&[("email", "a@b.co"), ("notes", "'quoted'")])
            .unwrap()
            .notes
            .as_deref(),
        Some("'quoted'")
    );
    assert!(row(&[("email", "a@b.co"), ("last_contact", "yesterday")])
        .unwrap_err()
        .starts_with("last_contact 'yesterday' is not a date"));
}

#[test]
fn json_items_are_rows_numbered_from_their_place() {
    let rows = json_rows(&RawChunkRef {
        first_line: 3,
        body: r#"[{"Email":"a@b.co","score":7},"x",{"email":"c@d.co","tags":["v"]}]"#,
    });
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].0, 3);
    assert_eq!(
        rows[0].1.as_ref().unwrap().extra.as_deref(),
        Some("{\"score\":\"7\"}")
    );
    assert_eq!(rows[1], (4, Err("the item is not an object".into())));
    assert_eq!(rows[2], (5, Err("the field 'tags' must be text".into())));
}
