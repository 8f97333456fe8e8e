//! The library's layering: no file of `src/` reaches, through the modules it names, a file
//! that names it back.
//!
//! Every `.rs` file of the library (not `main.rs`, `src/bin/` or `#[cfg(test)]` code) is a
//! node; a file names another when it mentions a path into that file's module: `crate::a::b`,
//! `super::x`, `self::x`, a `use` tree (`use crate::a::{b, c::d}`) or a child module by its
//! bare name (`link::Link` beside `mod link;`). A path stops at the deepest module that is a
//! file, so `crate::store::chats::utc` names `src/store/chats.rs`. A module declaring its
//! children (`mod x;`) does not name them, and paths into the crate root (`lib.rs`, where
//! `#[macro_export]` macros land) are left out. The test fails on any circle and prints it,
//! file by file, with the paths that tie each step. A second check keeps the spine pointing
//! down: `schema` < `model` < `store` < `engine`, each naming only its own layer, those below
//! it and the small helpers (`tokens`, `retry`, `net`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// A module path of the library (`["store", "chats"]` for `src/store/chats.rs`).
type ModPath = Vec<String>;

/// One file of the library as the check reads it.
struct Source {
    module: ModPath,
    /// The code without comments and without `#[cfg(test)]` modules.
    code: String,
    /// Child modules declared in it (`mod x;`), not those under `#[cfg(test)]`.
    children: BTreeSet<String>,
    /// The names it defines (types, functions, constants, modules, macros).
    defines: BTreeSet<String>,
    /// What it hands on (`pub use a::B;`, `pub use a::*;`), from the crate root.
    hands_on: Vec<ModPath>,
}

#[test]
fn no_file_of_the_library_reaches_itself_through_its_imports() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = library_files(&src);
    let circles = circles(&files);
    assert!(
        circles.is_empty(),
        "import circles between files of src/ (a file must not reach itself through the \
         modules it names; move what both sides need into a lower module):\n{}",
        circles.join("\n")
    );
}

/// The spine, lowest first: the tables, the vocabulary, the queries, the rules.
const SPINE: [&str; 4] = ["schema", "model", "store", "engine"];

/// Small helpers any layer may use.
const HELPERS: [&str; 3] = ["tokens", "retry", "net"];

#[test]
fn the_spine_names_nothing_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = library_files(&src);
    let by_module: HashMap<&ModPath, &PathBuf> =
        files.iter().map(|(path, s)| (&s.module, path)).collect();
    let top = |source: &Source| source.module.first().cloned().unwrap_or_default();
    let mut upward = BTreeSet::new();
    for (path, source) in &files {
        let Some(layer) = SPINE.iter().position(|l| *l == top(source)) else {
            continue;
        };
        for named in named_paths(source) {
            let Some(target) = locate(&files, &by_module, &named, 0) else {
                continue;
            };
            let named_top = top(&files[target]);
            if target.ends_with("src/lib.rs")
                || SPINE[..=layer].contains(&named_top.as_str())
                || HELPERS.contains(&named_top.as_str())
            {
                continue;
            }
            upward.insert(format!(
                "{} -> {} (crate::{})",
                path.strip_prefix(&src).unwrap_or(path).display(),
                target.strip_prefix(&src).unwrap_or(target).display(),
                named.join("::")
            ));
        }
    }
    assert!(
        upward.is_empty(),
        "files of the spine ({}) name a module above their layer (move what they need down):\n{}",
        SPINE.join(" < "),
        upward.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Reads every file of the library, from `lib.rs` down through the modules it declares.
fn library_files(src: &Path) -> BTreeMap<PathBuf, Source> {
    let mut files = BTreeMap::new();
    let mut pending = vec![(src.join("lib.rs"), Vec::new())];
    while let Some((path, module)) = pending.pop() {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let (code, children) = strip(&text);
        let dir = if module.is_empty() {
            src.to_path_buf()
        } else {
            path.with_extension("")
        };
        for child in &children {
            let mut child_module = module.clone();
            child_module.push(child.clone());
            let beside = dir.join(format!("{child}.rs"));
            let inside = dir.join(child).join("mod.rs");
            let found = if beside.exists() { beside } else { inside };
            pending.push((found, child_module));
        }
        let mut source = Source {
            module,
            code,
            children,
            defines: BTreeSet::new(),
            hands_on: Vec::new(),
        };
        source.defines = definitions(&source.code);
        source.hands_on = handed_on(&source);
        files.insert(path, source);
    }
    files
}

/// The code without comments and `#[cfg(test)]` items, and the child modules it declares.
fn strip(text: &str) -> (String, BTreeSet<String>) {
    let code = without_comments(text);
    let mut kept = String::with_capacity(code.len());
    let mut children = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        // Skips the item: up to its `;`, or through its braces when one opens first.
        let end = match (after.find(';'), after.find('{')) {
            (Some(semi), Some(open)) if open < semi => matching_brace(after, open),
            (Some(semi), _) => semi + 1,
            (None, Some(open)) => matching_brace(after, open),
            (None, None) => after.len(),
        };
        rest = &after[end..];
    }
    kept.push_str(rest);
    for line in kept.lines() {
        let line = line.trim();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        if let Some(name) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
            children.insert(name.trim().to_string());
        }
    }
    (kept, children)
}

/// The names `code` defines: what follows `struct`, `enum`, `fn`, `macro_rules!` and the like.
fn definitions(code: &str) -> BTreeSet<String> {
    const KEYWORDS: [&str; 10] = [
        "struct",
        "enum",
        "union",
        "trait",
        "type",
        "fn",
        "const",
        "static",
        "mod",
        "macro_rules",
    ];
    let words = words(code);
    words
        .windows(2)
        .filter(|w| KEYWORDS.contains(&w[0].1))
        .map(|w| w[1].1.to_string())
        .collect()
}

/// The paths `source` hands on with `pub use`, from the crate root.
fn handed_on(source: &Source) -> Vec<ModPath> {
    let code = &source.code;
    let mut out = Vec::new();
    for (at, word) in words(code) {
        let before = code[..at].trim_end();
        if word != "use" || !(before.ends_with("pub") || before.ends_with(')')) {
            continue;
        }
        let tail = &code[at + 3..];
        let Some(end) = tail.find(';') else { break };
        out.extend(
            expand(&tail[..end])
                .iter()
                .filter_map(|p| resolve(source, p)),
        );
    }
    out
}

/// The file that defines what `path` names: the deepest module on it that is a file, or,
/// where that file only hands the name on (`pub use`), the file it comes from.
fn locate<'a>(
    files: &'a BTreeMap<PathBuf, Source>,
    by_module: &HashMap<&ModPath, &'a PathBuf>,
    path: &[String],
    depth: usize,
) -> Option<&'a PathBuf> {
    let deepest = (0..=path.len())
        .rev()
        .find(|n| by_module.contains_key(&path[..*n].to_vec()))?;
    let file = by_module[&path[..deepest].to_vec()];
    let Some(name) = path.get(deepest) else {
        return Some(file);
    };
    let source = &files[file];
    if depth > 8 || source.defines.contains(name) {
        return Some(file);
    }
    for handed in &source.hands_on {
        match handed.split_last() {
            Some((last, _)) if last == name => {
                let mut from = handed.clone();
                from.extend(path[deepest + 1..].iter().cloned());
                return locate(files, by_module, &from, depth + 1);
            }
            Some((last, module)) if last == "*" => {
                let mut from = module.to_vec();
                from.extend(path[deepest..].iter().cloned());
                let found = locate(files, by_module, &from, depth + 1);
                if found.is_some_and(|f| files[f].defines.contains(name)) {
                    return found;
                }
            }
            _ => {}
        }
    }
    Some(file)
}

/// The index just past the brace that closes the one at `open`.
fn matching_brace(text: &str, open: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return open + i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// `text` without `//` and `/* */` comments; strings and character literals are kept whole.
fn without_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            let start = i;
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(&chars[start..j.min(chars.len())]);
            i = j;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.extend(&chars[start..i.min(chars.len())]);
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('"', '\'', 'x'); a lifetime has no closing quote.
            let start = i;
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.extend(&chars[start..i.min(chars.len())]);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The module paths `source` names, each resolved from the crate root.
fn named_paths(source: &Source) -> Vec<ModPath> {
    let code = &source.code;
    let words = words(code);
    let mut found = Vec::new();
    // `use` trees: `use crate::a::{b, c::d};` names `a::b` and `a::c::d`.
    let mut used_to = 0;
    for (at, word) in &words {
        if *word != "use" || *at < used_to {
            continue;
        }
        let tail = &code[at + 3..];
        let Some(end) = tail.find(';') else { break };
        for path in expand(&tail[..end]) {
            found.extend(resolve(source, &path));
        }
        used_to = at + 3 + end;
    }
    // Every path written out: `crate::x::y`, `super::x`, `child::x` (the heads of `use`
    // trees that open a brace are left to the trees above).
    for (n, (at, word)) in words.iter().enumerate() {
        let starts = matches!(*word, "crate" | "super" | "self") || source.children.contains(*word);
        if !starts || code[..*at].trim_end().ends_with("::") {
            continue;
        }
        let mut path = vec![(*word).to_string()];
        let mut end = at + word.len();
        for (next_at, next) in &words[n + 1..] {
            if code[end..*next_at].trim() != "::" {
                break;
            }
            path.push((*next).to_string());
            end = next_at + next.len();
        }
        let opens_tree = code[end..]
            .trim_start()
            .strip_prefix("::")
            .is_some_and(|t| t.trim_start().starts_with(['{', '*']));
        if path.len() > 1 && !opens_tree {
            found.extend(resolve(source, &path));
        }
    }
    found
}

/// The identifiers of `text` with their offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let part = c.is_alphanumeric() || c == '_';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// The paths of one `use` tree (`a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`).
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let tree = tree.strip_prefix("::").unwrap_or(tree);
    let segments = |path: &str| -> Vec<String> {
        path.split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let Some(open) = tree.find('{') else {
        // `a::b as c` names `a::b`.
        return vec![segments(tree.split_whitespace().next().unwrap_or(tree))];
    };
    let prefix = segments(&tree[..open]);
    let inner = &tree[open + 1..matching_brace(tree, open) - 1];
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut from = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[from..]);
    let mut out = Vec::new();
    for part in parts.into_iter().filter(|p| !p.trim().is_empty()) {
        for tail in expand(part) {
            let mut path = prefix.clone();
            path.extend(tail.into_iter().filter(|s| s != "self"));
            out.push(path);
        }
    }
    out
}

/// `path` as written in `source`, from the crate root; `None` for other crates' paths.
fn resolve(source: &Source, path: &[String]) -> Option<ModPath> {
    let (first, rest) = path.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => source.module.clone(),
        "super" => {
            let mut up = source.module.clone();
            up.pop();
            up
        }
        child if source.children.contains(child) => {
            let mut down = source.module.clone();
            down.push(child.to_string());
            down
        }
        _ => return None,
    };
    let mut rest = rest;
    while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
        base.pop();
        rest = tail;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every circle between files, one line per step: `a.rs -> b.rs (crate::b::X)`.
fn circles(files: &BTreeMap<PathBuf, Source>) -> Vec<String> {
    let by_module: HashMap<&ModPath, &PathBuf> =
        files.iter().map(|(path, s)| (&s.module, path)).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = |p: &PathBuf| p.strip_prefix(root).unwrap_or(p).display().to_string();
    // file -> (file it names -> one path that names it)
    let mut edges: BTreeMap<&PathBuf, BTreeMap<&PathBuf, String>> = BTreeMap::new();
    for (path, source) in files {
        let out = edges.entry(path).or_default();
        for named in named_paths(source) {
            let target = locate(files, &by_module, &named, 0);
            if let Some(target) = target.filter(|t| *t != path && !t.ends_with("src/lib.rs")) {
                out.entry(target)
                    .or_insert_with(|| format!("crate::{}", named.join("::")));
            }
        }
    }
    let mut report = Vec::new();
    for component in strongly_connected(&edges) {
        if component.len() < 2 {
            continue;
        }
        let cycle = one_cycle(&edges, &component);
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("  {} -> {} ({})", name(w[0]), name(w[1]), edges[w[0]][w[1]]))
            .collect();
        let members: Vec<String> = component.iter().map(|p| name(p)).collect();
        report.push(format!(
            "circle of {} files ({}), for one:\n{}",
            component.len(),
            members.join(", "),
            steps.join("\n")
        ));
    }
    report
}

/// The groups of files that reach each other (Tarjan's algorithm).
fn strongly_connected<'a>(
    edges: &BTreeMap<&'a PathBuf, BTreeMap<&'a PathBuf, String>>,
) -> Vec<BTreeSet<&'a PathBuf>> {
    struct State<'a> {
        index: HashMap<&'a PathBuf, usize>,
        low: HashMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<BTreeSet<&'a PathBuf>>,
    }
    fn visit<'a>(
        node: &'a PathBuf,
        edges: &BTreeMap<&'a PathBuf, BTreeMap<&'a PathBuf, String>>,
        s: &mut State<'a>,
    ) {
        let n = s.index.len();
        s.index.insert(node, n);
        s.low.insert(node, n);
        s.stack.push(node);
        s.on_stack.insert(node);
        for next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
            if !s.index.contains_key(next) {
                visit(next, edges, s);
                let low = s.low[node].min(s.low[next]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(next) {
                let low = s.low[node].min(s.index[next]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = BTreeSet::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                component.insert(top);
                if top == node {
                    break;
                }
            }
            s.found.push(component);
        }
    }
    let mut state = State {
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node) {
            visit(node, edges, &mut state);
        }
    }
    state.found
}

/// One loop through `component`, starting and ending at its first file (breadth first, so
/// the shortest way back).
fn one_cycle<'a>(
    edges: &BTreeMap<&'a PathBuf, BTreeMap<&'a PathBuf, String>>,
    component: &BTreeSet<&'a PathBuf>,
) -> Vec<&'a PathBuf> {
    let Some(&start) = component.iter().next() else {
        return Vec::new();
    };
    let mut came_from: HashMap<&PathBuf, &PathBuf> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in edges[node].keys().filter(|n| component.contains(*n)) {
            if *next == start {
                let mut cycle = vec![start, node];
                let mut at = node;
                while let Some(&prev) = came_from.get(at) {
                    cycle.push(prev);
                    at = prev;
                }
                cycle.reverse();
                return cycle;
            }
            if !came_from.contains_key(next) && *next != start {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    vec![start]
}
