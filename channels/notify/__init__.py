"""GOV.UK Notify: texts and emails through one free-text template each (channels), its JWT
(auth) and what each of its errors means (errors); its routes, settings and factories (spec)."""
