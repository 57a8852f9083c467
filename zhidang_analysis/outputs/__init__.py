"""Files written from reports and data: HTML (nbconvert), Word, PDF, the Excel entry template, the check report
and the names of output files."""
