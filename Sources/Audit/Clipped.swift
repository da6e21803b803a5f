/// `text` cut to `limit` characters, the last one an ellipsis: how the audit quotes a value or a line.
func clipped(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
}
