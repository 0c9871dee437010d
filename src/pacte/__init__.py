"""Pacte — la plateforme du Service Public Citoyen."""
