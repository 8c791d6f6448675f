select
    {{ generate_surrogate_key(['program']) }} as training_program_sk,
    program,
    program_name_zh,
    program_name_en,
    counts_toward_continuing_education,
    description
from {{ ref('training_programs') }}
