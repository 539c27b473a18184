-- A work order's title in each language: `title` is the zh-CN one (or what a person wrote, in whatever language
-- they wrote it), `title_en` the English one where the system wrote the title (alarm, report category, preventive
-- template); NULL where a person wrote it. Orders opened before kept both in `title` as "中文 / English".
ALTER TABLE work_orders ADD COLUMN title_en text;

UPDATE work_orders
   SET title_en = substr(title, strpos(title, ' / ') + 3),
       title = left(title, strpos(title, ' / ') - 1)
 WHERE strpos(title, ' / ') > 1 AND strpos(substr(title, strpos(title, ' / ') + 3), ' / ') = 0;
