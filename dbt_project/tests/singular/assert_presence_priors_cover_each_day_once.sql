-- Each site type's blocks of presence_priors cover every hour of the day exactly once: a gap would leave a
-- retry hour without a rate, an overlap would give it two.
with hours as (
    select unnest(range(24)) as hour
),

site_types as (
    select distinct site_type from {{ ref('presence_priors') }}
),

covered as (
    select site_types.site_type, hours.hour, count(priors.site_type) as n_blocks
    from site_types
    cross join hours
    left join {{ ref('presence_priors') }} as priors
        on priors.site_type = site_types.site_type
        and hours.hour >= priors.start_hour
        and hours.hour < priors.end_hour
    group by site_types.site_type, hours.hour
)

select site_type, hour, n_blocks
from covered
where n_blocks <> 1
