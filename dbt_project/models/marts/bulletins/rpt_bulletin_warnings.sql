-- One row per figure a bulletin reader saw in a current bulletin file but would not emit (未采用的
-- 数字): digits missing or cut off, an amount attached to several counts, a province that is not
-- 河南 ... The reader refuses to guess; this report shows what it refused, where and why.
with warnings as (
    select * from {{ ref('stg_raw__bulletin_warnings') }}
),

bulletins as (
    select file_sha256, min(round_no) as round_no, min(source_url) as source_url
    from {{ ref('stg_raw__bulletins') }}
    group by file_sha256
),

manifest as (
    select file_sha256, max(loaded_at) as loaded_at
    from {{ ref('stg_raw__load_manifest') }}
    group by file_sha256
)

select
    coalesce(w.round_no, b.round_no)    as round_no,
    w.reason,
    w.sentence,
    w.file_path,
    w.file_sha256,
    b.source_url,
    m.loaded_at
from warnings as w
left join bulletins as b using (file_sha256)
left join manifest as m using (file_sha256)
