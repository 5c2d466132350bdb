"""The plain-language summary for the patient."""
