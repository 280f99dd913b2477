"""Volunteer listeners: the roster, and the calls that offer them a waiting caller."""
