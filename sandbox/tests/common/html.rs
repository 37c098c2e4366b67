//! Reads the consent form as a browser would submit it.

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn input_tags(html: &str) -> Vec<&str> {
    html.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .collect()
}

/// `name`/`value` of every hidden input, as a browser would submit them.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    input_tags(html)
        .into_iter()
        .filter(|t| t.contains("type=\"hidden\""))
        .filter_map(|t| Some((attr(t, "name")?, attr(t, "value")?)))
        .collect()
}

pub fn input_value(html: &str, id: &str) -> Option<String> {
    input_tags(html)
        .into_iter()
        .find(|t| attr(t, "id").as_deref() == Some(id))
        .and_then(|t| attr(t, "value"))
}

/// The values of the `.scope` checkboxes that are checked.
pub fn checkbox_values(html: &str) -> Vec<String> {
    input_tags(html)
        .into_iter()
        .filter(|t| t.contains("class=\"scope\"") && t.contains("checked"))
        .filter_map(|t| attr(t, "value"))
        .collect()
}
