DELETE FROM products WHERE sku ~ '^(ELE|BOO|HOM|SPO|TOY|GRO)-[0-9]{3}$';
