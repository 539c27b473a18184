"""UI strings of each area of the web app, one module per area, each a ``STRINGS`` table of key -> (zh-CN,
English). ``dashboard.i18n`` merges them with its shared strings and refuses a key defined twice."""
