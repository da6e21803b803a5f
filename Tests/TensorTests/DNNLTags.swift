import CDNNL

// Format tags for the tests, so they need not import the C module themselves.
func dnnl_nchw_tag() -> dnnl_format_tag_t { dnnl_nchw }
func dnnl_blocked_tag() -> dnnl_format_tag_t { dnnl_nChw16c }
