"""Preset and profile YAML files, installed as the package data t2vid.configs."""
